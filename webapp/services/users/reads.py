"""Reading a user: the record, its provenance, segments, roles and form values."""

from peewee import fn

from webapp.db import is_sqlite, prepared
from webapp.models import SEGMENT_MODELS, Email, FieldState, Library, User
from webapp.services import NotFound
from webapp.services.fields import GENERAL_FIELDS, parse_date, to_text

# Written out once: peewee builds this SELECT of ~30 columns on every call otherwise,
# and it runs several times a request.
_GET_USER_SQL = 'SELECT * FROM "user" WHERE id = ?'


def get_user(user_id, lock=False):
    """Return the user with USER_ID or raise NotFound; LOCK its row for the transaction's write.

    On PostgreSQL two saves could otherwise both read version N and both pass the
    version check; FOR UPDATE makes the second wait and then see N+1 (an edit conflict).
    SQLite's IMMEDIATE transaction already holds the whole file.
    """
    sql = _GET_USER_SQL if is_sqlite() else _GET_USER_SQL.replace("?", "%s")
    if lock and not is_sqlite():
        sql += " FOR UPDATE"
    user = next(iter(User.raw(sql, int(user_id))), None)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def column_of(field):
    """Return the User attribute that holds FIELD (the library's id for rs_library)."""
    return "rs_library_id" if field == "rs_library" else field


def provenance(user):
    """Return {field: FieldState} for the user's fields edited here."""
    states = prepared("field states", FieldState,
                      lambda: FieldState.select().where(FieldState.user == 0), user.id)
    return {fs.field: fs for fs in states}


def form_value(value):
    """Return VALUE as a form input holds it: to_text(), but 'on' or '' for a checkbox."""
    if isinstance(value, bool):
        return "on" if value else ""
    return to_text(value)


def form_values(user):
    """Return the general fields of USER as strings, as a form shows them."""
    return {field: form_value(getattr(user, column_of(field))) for field in GENERAL_FIELDS}


def history_value(field, value):
    """Return VALUE of FIELD as the history shows it: a library by its name."""
    if field == "rs_library" and value:
        library = Library.get_or_none(Library.id == value)
        return library.name if library else value
    return value


def segments(user, kind):
    """Return the user's segments of KIND in display order."""
    model = SEGMENT_MODELS[kind]

    def build():
        query = model.select().where(model.user == 0)
        if hasattr(model, "preferred"):
            return query.order_by(model.preferred.desc(), model.id)
        return query.order_by(model.id)

    return list(prepared(f"segments/{kind}", model, build, user.id))


def multiple_libraries():
    """Tell whether more than one library is configured (the resource sharing field exists)."""
    return Library.select().count() > 1


def library_choices():
    """Return (id, name) of the libraries a resource sharing library is chosen from, or [].

    The field exists only where more than one library is configured.
    """
    choices = [(str(lib.id), lib.name) for lib in Library.select().order_by(Library.name)]
    return choices if len(choices) > 1 else []


def _born(text):
    try:
        return parse_date(text)
    except ValueError:
        return None


def possible_duplicates(values, limit=10):
    """Return users with the same name and birth date, or the same email, as VALUES."""
    found = {}
    first = (values.get("first_name") or "").strip().lower()
    last = (values.get("last_name") or "").strip().lower()
    born = _born(values.get("birth_date")) if last else None
    if born:
        query = User.select().where(
            (fn.LOWER(User.last_name) == last)
            & (fn.LOWER(User.first_name) == first)
            & (User.birth_date == born)
        )
        for user in query.limit(limit):
            found[user.id] = (user, "same name and birth date")
    email = (values.get("email") or "").strip().lower()
    if email:
        query = Email.select(Email.user).where(fn.LOWER(Email.address) == email)
        for row in query.limit(limit):
            found.setdefault(row.user_id, (row.user, "same email"))
    return list(found.values())
