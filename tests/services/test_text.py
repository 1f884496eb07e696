"""The boundary for untrusted text: what each kind of field refuses, normalizes and keeps."""

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.services import ValidationError
from webapp.services.text import LINE, LINES, NAME, SECRET, UnsafeText, clean, rule_of, shown, taken_as_is

REFUSED_EVERYWHERE = "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x80\x85\x9f\ud800\udfff\ufffd"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def test_the_field_catalogue_says_which_rule_a_field_has():
    assert rule_of("notes.text") is LINES and rule_of("addresses.line2") is LINES
    assert rule_of("last_name") is NAME and rule_of("identifiers.value") is NAME
    assert rule_of("external_id") is NAME and rule_of("source") is NAME
    assert rule_of("password") is SECRET
    assert rule_of("campus") is LINE and rule_of("q") is LINE


@pytest.mark.parametrize("char", REFUSED_EVERYWHERE)
@pytest.mark.parametrize("field", ["last_name", "notes.text", "campus", "password"])
def test_controls_surrogates_and_the_replacement_character_are_refused_in_every_field(field, char):
    with pytest.raises(UnsafeText) as refused:
        clean(f"Ann{char}Ray", field)
    assert refused.value.field == field
    assert f"U+{ord(char):04X}" in refused.value.reason
    assert isinstance(refused.value, ValidationError)
    assert list(refused.value.errors) == [field]


def test_the_reason_is_in_a_librarians_words():
    with pytest.raises(UnsafeText) as refused:
        clean("Ann\x1b[2J", "first_name")
    assert refused.value.reason == "contains a control character (U+001B)"
    assert refused.value.errors == {"first_name": "Contains a control character (U+001B)."}


@pytest.mark.parametrize("char", "\t\n\r")
def test_tabs_and_line_breaks_only_in_multi_line_fields(char):
    with pytest.raises(UnsafeText, match="tab or a line break"):
        clean(f"Ann{char}Ray", "last_name")
    with pytest.raises(UnsafeText):
        clean(f"Main{char}", "campus")
    text = f"one{char}\ntwo" if char == "\r" else f"one{char}two"
    assert clean(text, "notes.text") == text


def test_a_carriage_return_alone_is_refused_in_a_note():
    with pytest.raises(UnsafeText, match="U\\+000D"):
        clean("one\rtwo", "notes.text")


@pytest.mark.parametrize("char", BIDI)
def test_bidirectional_overrides_are_refused_in_names_and_identifiers_only(char):
    for field in ("first_name", "primary_id", "identifiers.value", "external_id", "emails.address"):
        with pytest.raises(UnsafeText, match="direction"):
            clean(f"abc{char}def", field)
    assert clean(f"abc{char}def", "notes.text") == f"abc{char}def"


def test_text_is_normalized_to_nfc_but_a_password_is_kept_as_typed():
    decomposed = "Re\u0301my"
    assert clean(decomposed, "last_name") == "R\u00e9my"
    assert clean(decomposed, "notes.text") == "R\u00e9my"
    assert clean(decomposed, "password") == decomposed


def test_printable_text_comes_back_as_it_is():
    for text in ("Ann Ray", "Zoë Müller", "李小龙", "", "Ann  "):
        assert clean(text, "last_name") == unicodedata.normalize("NFC", text)


def test_shown_escapes_what_a_terminal_would_act_on():
    assert shown("\x1b[2Jowned\x07") == "\\x1b[2Jowned\\x07"
    assert shown("a\ud800b\u202ec\U000e0001") == "a\\ud800b\\u202ec\\U000e0001"
    assert shown("Zoë Müller") == "Zoë Müller"
    assert shown(42) == "42"


TEXT = st.one_of(st.text(st.characters(exclude_categories=())),
                 st.text(st.sampled_from(REFUSED_EVERYWHERE + BIDI + "\t\n\r Ae\u0301"), max_size=40),
                 st.text(min_size=2000, max_size=6000))


@settings(max_examples=60)
@given(text=TEXT, field=st.sampled_from(["last_name", "notes.text", "campus", "identifiers.value",
                                         "password"]))
def test_clean_text_or_one_error_for_any_text(text, field):
    try:
        cleaned = clean(text, field)
    except UnsafeText as refused:
        assert refused.field == field and refused.reason.startswith("contains ")
        return
    rule = rule_of(field)
    assert rule.refused.search(cleaned) is None
    if rule is not SECRET:
        assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(0xD800 <= ord(c) <= 0xDFFF or unicodedata.category(c) == "Cc" and c not in "\t\n\r"
                   for c in cleaned)


@settings(max_examples=60)
@given(text=TEXT)
def test_shown_text_is_always_printable(text):
    assert shown(text).isprintable()


ACCENTS = "Ae\u0301\u0308\u00e9\u200b"
CELLS = st.lists(st.one_of(st.text(st.characters(exclude_categories=())),
                           st.text(st.sampled_from(REFUSED_EVERYWHERE + BIDI + "\t\n\r " + ACCENTS),
                                   max_size=12)),
                 max_size=6)


@settings(max_examples=200)
@given(cells=CELLS)
def test_a_record_taken_as_is_is_taken_as_is_by_every_rule_cell_by_cell(cells):
    # A sync file's record is checked whole: what passes must be what each cell check keeps.
    joined = " ".join(cells)
    assert unicodedata.is_normalized("NFC", joined) == all(unicodedata.is_normalized("NFC", c) for c in cells)
    if taken_as_is(joined):
        for cell in cells:
            for rule in (LINE, LINES, NAME, SECRET):
                assert clean(cell, "field", rule) == cell


@pytest.mark.parametrize("char", REFUSED_EVERYWHERE + BIDI + "\t\n\r")
def test_a_record_with_any_refused_character_is_checked_cell_by_cell(char):
    assert not taken_as_is(f"Zoë Müller {char}x")


def test_a_record_of_composed_accented_names_is_taken_as_is_and_a_decomposed_one_is_not():
    assert taken_as_is("S01 Zoë Müller García 李小龙")
    assert not taken_as_is("S01 Zoe\u0308 Müller")
