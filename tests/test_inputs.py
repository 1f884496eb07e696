"""Every form and query-string value through the text boundary: 422 naming the field, nothing stored."""

import io
import re
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_desk import form_in
from webapp.db import db
from webapp.models import SEGMENT_MODELS, History, Identifier, Note, SyncRun, User
from webapp.services.fields import GENERAL_FIELDS
from webapp.services.passwords import check_secret

HTMX = {"HX-Request": "true"}
CONTROLS = ["\x00", "\x1b", "\x07"]
STORED_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffd]")
LINE_BREAK = re.compile("[\t\n\r]")
MULTILINE = {("Note", "text"), ("Address", "line1"), ("Address", "line2"), ("History", "old"),
             ("History", "new")}


def version_of(uid):
    with db.connection_context():
        return str(User.get_by_id(uid).version)


def general_form(uid, **changes):
    """Return the User Details general form of the internal patron, at its current version."""
    return {"version": version_of(uid), "primary_id": "INT1", "first_name": "Ida", "last_name": "Inman",
            "user_group": "Community", **changes}


def stored(uid):
    """Return what is stored of user UID: its fields, segments and history."""
    with db.connection_context():
        user = User.get_by_id(uid)
        segments = {kind: [s.__data__ for s in model.select().where(model.user == uid)]
                    for kind, model in SEGMENT_MODELS.items()}
        history = History.select().where(History.user == uid).count()
    return user.__data__, segments, history


def quick_form(client, uid):
    return form_in(client.get(f"/desk/patrons/{uid}/edit", headers=HTMX).get_data(as_text=True))


def desk_post(client, uid, changes):
    """Post the desk's Edit User Info form of UID as loaded, with CHANGES typed in."""
    form = quick_form(client, uid)
    form.update({name: [value] for name, value in changes.items()})
    return client.post(f"/desk/patrons/{uid}", data=form, headers=HTMX)


def refused(response, label="", char=None):
    """Assert RESPONSE is the 422 that names LABEL and the character CHAR; return its text."""
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text
    assert label in text
    assert char is None or f"U+{ord(char):04X}" in text
    return text


@pytest.mark.parametrize("char", CONTROLS)
def test_a_control_character_in_a_name_on_user_details_is_422_and_nothing_is_stored(
        login_as, patrons, char):
    client = login_as("User Manager")
    uid = patrons["internal"]
    before = stored(uid)
    response = client.post(f"/users/{uid}/general", data=general_form(uid, last_name=f"In{char}man"))
    refused(response, "Last name", char)
    assert stored(uid) == before


@pytest.mark.parametrize("char", CONTROLS)
def test_a_control_character_in_a_note_on_user_details_is_422(login_as, patrons, char, htmx_client):
    login_as("User Manager")
    uid = patrons["internal"]
    before = stored(uid)
    response = htmx_client.post(f"/users/{uid}/segments/notes",
                                data={"notes.new.text": f"Card{char} lost", "notes.new.note_type": "general",
                                      "version": version_of(uid)})
    text = refused(response, "Note", char)
    assert "<html" not in text  # an htmx request gets the fragment
    assert stored(uid) == before


@pytest.mark.parametrize("char", CONTROLS)
@pytest.mark.parametrize("field, label", [("notes.new.text", "Note"), ("campus", "Campus")])
def test_a_control_character_on_the_desk_is_422_and_nothing_is_stored(login_as, patrons, char, field,
                                                                      label):
    client = login_as("General System Administrator")
    uid = patrons["internal"]
    before = stored(uid)
    refused(desk_post(client, uid, {field: f"Main{char}"}), label, char)
    assert stored(uid) == before


@pytest.mark.parametrize("char", CONTROLS)
def test_a_control_character_on_add_user_is_422_and_no_user_is_created(login_as, char):
    client = login_as("User Manager")
    form = {"primary_id": "NEW1", "first_name": f"Ida{char}", "last_name": "Inman", "user_group": "Community",
            "confirm": "yes"}
    refused(client.post("/users/new", data=form), "First name", char)
    with db.connection_context():
        assert not User.select().where(User.primary_id == "NEW1").exists()


def test_tabs_and_line_breaks_are_kept_in_a_note_and_refused_in_a_name(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["internal"]
    assert desk_post(client, uid, {"notes.new.text": "Card replaced\r\n\tby the desk"}).status_code == 200
    with db.connection_context():
        assert [n.text for n in Note.select().where(Note.user == uid)] == ["Card replaced\r\n\tby the desk"]
    response = client.post(f"/users/{uid}/general", data=general_form(uid, last_name="In\tman"))
    assert "tab or a line break" in refused(response, "Last name", "\t")


def test_a_bidi_override_is_refused_in_a_name_and_an_identifier_but_kept_in_a_note(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]
    response = client.post(f"/users/{uid}/general", data=general_form(uid, first_name="Ida\u202eabc"))
    refused(response, "First name", "\u202e")
    response = client.post(f"/users/{uid}/segments/identifiers",
                           data={"identifiers.new.id_type": "barcode", "identifiers.new.value": "B\u20661",
                                 "version": version_of(uid)})
    refused(response, "Value", "\u2066")
    with db.connection_context():
        assert not Identifier.select().where(Identifier.user == uid).exists()
    note = "\u202bשלום\u202c"
    response = client.post(f"/users/{uid}/segments/notes", data={
        "notes.new.text": note, "notes.new.note_type": "general", "version": version_of(uid)})
    assert response.status_code == 302, response.get_data(as_text=True)
    with db.connection_context():
        assert [n.text for n in Note.select().where(Note.user == uid)] == [note]


def test_percent_escaped_invalid_utf8_in_a_form_or_a_query_string_is_refused(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]
    body = urllib.parse.urlencode(general_form(uid)).replace("last_name=Inman", "last_name=In%ffman")
    response = client.post(f"/users/{uid}/general", data=body,
                           content_type="application/x-www-form-urlencoded")
    assert "Last name is not valid UTF-8 text" in refused(response)
    assert stored(uid)[0]["last_name"] == "Inman"
    search = refused(client.get("/users/?q=In%ffman"))
    assert "The search text is not valid UTF-8 text" in search
    # A refused search saved nothing, and the page does not say it did.
    assert "Not accepted" in search and "Not saved" not in search
    # A typed "%ff" is text like any other.
    assert client.get("/users/?q=In%25ffman").status_code == 200
    # In a multipart body the invalid byte reaches the form as U+FFFD, refused too.
    response = client.post(f"/users/{uid}/general", data={**general_form(uid), "last_name": "In\ufffdman"},
                           content_type="multipart/form-data")
    refused(response, "Last name", "\ufffd")


def test_a_decomposed_letter_is_stored_composed(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]
    response = client.post(f"/users/{uid}/general", data=general_form(uid, last_name="Re\u0301my"))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert stored(uid)[0]["last_name"] == "R\u00e9my"
    found = client.get("/users/?q=" + urllib.parse.quote("Re\u0301my")).get_data(as_text=True)
    assert "R\u00e9my" in found


def test_a_password_is_kept_as_typed_but_a_control_character_is_refused(login_as, patrons):
    client = login_as("User Administrator")
    uid = patrons["internal"]
    typed = "Re\u0301my-secret-42"
    response = client.post(f"/users/{uid}/password", data={"password": typed, "password_confirm": typed})
    assert response.status_code in (200, 302, 303), response.get_data(as_text=True)
    with db.connection_context():
        assert check_secret(User.get_by_id(uid).password_hash, typed)
    response = client.post(f"/users/{uid}/password", data={"password": "secret\x00secret",
                                                            "password_confirm": "secret\x00secret"})
    refused(response, "Password", "\x00")


def test_the_loaded_field_passes_through_as_posted(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["internal"]
    assert desk_post(client, uid, {"loaded": '{"campus": "x\x1b"}', "campus": "North"}).status_code == 200
    assert stored(uid)[0]["campus"] == "North"


def test_an_uploaded_file_name_with_a_control_character_is_refused(login_as):
    client = login_as("User Administrator")
    data = {"file": (io.BytesIO(b"external_id,primary_id,last_name,user_group\nS1,P1,Ray,Graduate\n"),
                     "sis\x1b[2J.csv"), "source": "SIS"}
    response = client.post("/admin/sync", data=data, content_type="multipart/form-data")
    refused(response, "file", "\x1b")
    with db.connection_context():
        assert SyncRun.select().count() == 0


# ---------------------------------------------------------------- arbitrary text


def stored_controls():
    """Return every stored text that holds a control character it may not hold."""
    bad = []
    with db.connection_context():
        for model in (User, History, *SEGMENT_MODELS.values()):
            for record in model.select():
                for field, value in record.__data__.items():
                    if isinstance(value, str) and (STORED_CONTROL.search(value) or (
                            (model.__name__, field) not in MULTILINE and LINE_BREAK.search(value))):
                        bad.append((model.__name__, field, value))
    return bad


def post_raw(client, url, fields, headers=None):
    """Post FIELDS as a browser would encode them; a lone surrogate goes as its (invalid) UTF-8 bytes."""
    body = urllib.parse.urlencode({k: v.encode("utf-8", "surrogatepass") for k, v in fields.items()})
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded",
                       headers=headers or {})


ANY_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=30),
    st.text(st.sampled_from("\x00\x07\x1b\x85\t\n\r\u202e\u2066\ud800\ufffdAé\u0301 %"), max_size=30),
    st.text(min_size=300, max_size=3000),
)
# Every general field that holds text; the resource sharing library is an id, not text.
GENERAL = [f for f in GENERAL_FIELDS if f != "rs_library"]
SEGMENTS = {"notes": ("text", {"notes.new.note_type": "general"}),
            "identifiers": ("value", {"identifiers.new.id_type": "barcode"}),
            "emails": ("address", {}), "phones": ("number", {}),
            "addresses": ("line1", {"addresses.new.city": "Oxford"})}


def test_arbitrary_text_in_any_user_details_field_is_never_a_5xx_or_a_stored_control(login_as, patrons):
    client = login_as("User Manager")
    uid = patrons["internal"]

    @settings(max_examples=60, deadline=None)
    @given(field=st.sampled_from(GENERAL + list(SEGMENTS)), value=ANY_TEXT)
    def post(field, value):
        if field in SEGMENTS:
            name, extra = SEGMENTS[field]
            response = post_raw(client, f"/users/{uid}/segments/{field}",
                                {f"{field}.new.{name}": value, "version": version_of(uid), **extra})
        else:
            response = post_raw(client, f"/users/{uid}/general", general_form(uid, **{field: value}))
        assert response.status_code < 500
        assert stored_controls() == []

    post()


def test_arbitrary_text_in_any_desk_field_is_never_a_5xx_or_a_stored_control(login_as, patrons):
    client = login_as("General System Administrator")
    uid = patrons["internal"]
    names = sorted(k for k in quick_form(client, uid) if k not in ("csrf_token", "loaded", "version"))

    @settings(max_examples=60, deadline=None)
    @given(field=st.sampled_from(names), value=ANY_TEXT)
    def post(field, value):
        form = {k: v[-1] for k, v in quick_form(client, uid).items()}
        form[field] = value
        assert post_raw(client, f"/desk/patrons/{uid}", form, HTMX).status_code < 500
        query = urllib.parse.quote(value.encode("utf-8", "surrogatepass"))
        assert client.get(f"/desk/?q={query}").status_code < 500
        assert stored_controls() == []

    post()
