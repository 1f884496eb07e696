"""The one parser of posted segments, shared by User Details and the desk's Edit User Info."""

from werkzeug.datastructures import MultiDict

from webapp.web import posted_segment, segment_values


def test_segment_values_reads_the_inputs_under_one_prefix():
    form = MultiDict({"emails.7.address": "ida@home.org", "emails.7.email_type": "work",
                      "emails.8.address": "other@home.org", "address": "not a segment"})
    # An unticked checkbox sends nothing: the flag reads as empty.
    assert segment_values(form, "emails", "emails.7") == {
        "address": "ida@home.org", "email_type": "work", "preferred": ""}


def test_segment_values_leaves_out_what_was_not_posted():
    form = MultiDict({"addresses.new.line1": "1 Elm St", "addresses.new.preferred": "on"})
    assert segment_values(form, "addresses", "addresses.new") == {"line1": "1 Elm St",
                                                                  "preferred": "on"}


def test_posted_segment_names_the_prefix_the_inputs_carry():
    form = MultiDict({"version": "3", "phones.new.number": "555", "emails.12.address": "a@b.org"})
    assert posted_segment(form, "emails") == "emails.12"
    assert posted_segment(form, "phones") == "phones.new"
    assert posted_segment(form, "addresses") is None


def test_posted_segment_ignores_names_that_are_not_the_kinds_fields():
    form = MultiDict({"emails.x.address": "a@b.org", "emails.3.colour": "red",
                      "phones.4.address": "a@b.org"})
    assert posted_segment(form, "emails") is None
