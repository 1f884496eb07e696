"""The user service: validation, provenance, edit conflicts and history for every change.

User Details, Patron Services and Add user all go through these functions, so a rule
is written once. Every change runs in one transaction with its history rows.
"""

import dataclasses
import datetime

from email_validator import EmailNotValidError, validate_email
from peewee import fn

from webapp.db import db, is_sqlite, prepared
from webapp.models import SEGMENT_MODELS, FieldState, Identifier, Library, User
from webapp.services import EditConflict, Forbidden, NotFound, ValidationError, history, search
from webapp.services.clock import now
from webapp.services.fields import (
    BOOLEAN_FIELDS,
    DATE_FIELDS,
    GENERAL_FIELDS,
    LABELS,
    PROTECTED,
    REQUIRED,
    SEGMENT_BOOLEANS,
    SEGMENT_DATES,
    SEGMENT_FIELDS,
    SEGMENT_LABELS,
    SEGMENT_REQUIRED,
    SOURCE_MANAGED,
    STATUSES,
    TEMPORARY,
    TYPE_CHOICES,
    USER_GROUPS,
)
from webapp.services.passwords import hash_secret, password_problem
from webapp.services.permissions import require, require_edit


@dataclasses.dataclass
class SegmentChange:
    """One change to a repeatable part: add, update or remove a segment."""

    kind: str
    action: str  # add | update | remove
    values: dict = dataclasses.field(default_factory=dict)
    segment_id: int | None = None
    as_external: bool = False

    def key(self, field):
        """Return the form name of FIELD of this segment, which errors are keyed by."""
        return f"{self.kind}.{self.segment_id if self.segment_id else 'new'}.{field}"


# ---------------------------------------------------------------- reading


# Written out once: peewee builds this SELECT of ~30 columns on every call otherwise,
# and it runs several times a request.
_GET_USER_SQL = 'SELECT * FROM "user" WHERE id = ?'


def get_user(user_id):
    """Return the user with USER_ID or raise NotFound."""
    sql = _GET_USER_SQL if is_sqlite() else _GET_USER_SQL.replace("?", "%s")
    user = next(iter(User.raw(sql, int(user_id))), None)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def provenance(user):
    """Return {field: FieldState} for the user's fields edited here."""
    states = prepared("field states", FieldState,
                      lambda: FieldState.select().where(FieldState.user == 0), user.id)
    return {fs.field: fs for fs in states}


def field_value(user, field):
    """Return FIELD of USER as a form shows it (a string)."""
    value = getattr(user, field + "_id" if field == "rs_library" else field)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def form_values(user):
    """Return the general fields of USER as strings, as a form shows them."""
    return {field: field_value(user, field) for field in GENERAL_FIELDS}


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


# ---------------------------------------------------------------- validation


def _parse_date(text):
    return datetime.date.fromisoformat(text.strip())


TRUE_VALUES = (True, "on", "yes", "true", "1", "y")


def _convert(field, raw, is_date, key, cleaned, errors):
    """Store a checkbox or date value in CLEANED, or its error under KEY in ERRORS."""
    if not is_date:
        cleaned[field] = raw in TRUE_VALUES
        return
    text = "" if raw is None else str(raw).strip()
    try:
        cleaned[field] = _parse_date(text) if text else None
    except ValueError:
        errors[key] = "Enter a date as YYYY-MM-DD."


def _max_length(model, field):
    return getattr(model._meta.fields[field], "max_length", None) or 10000


def clean_general(values, user=None):
    """Return VALUES (strings) converted for storage, or raise ValidationError with every error."""
    errors, cleaned = {}, {}
    for field, raw in values.items():
        if field not in GENERAL_FIELDS:
            continue
        if field in BOOLEAN_FIELDS or field in DATE_FIELDS:
            _convert(field, raw, field in DATE_FIELDS, field, cleaned, errors)
            continue
        text = "" if raw is None else str(raw).strip()
        if field in REQUIRED and not text:
            errors[field] = f"{LABELS[field]} is required."
            continue
        if field == "rs_library":
            if not text:
                cleaned[field] = None
            elif not text.isdigit() or Library.get_or_none(Library.id == int(text)) is None:
                errors[field] = "Choose a library from the list."
            else:
                cleaned[field] = int(text)
            continue
        limit = _max_length(User, field)
        if len(text) > limit:
            errors[field] = f"Use at most {limit} characters."
            continue
        if field == "user_group" and text not in USER_GROUPS:
            errors[field] = "Choose a user group from the list."
            continue
        if field == "status" and text not in STATUSES:
            errors[field] = "Choose active or inactive."
            continue
        cleaned[field] = text
    expiry = cleaned.get("expiry_date", user.expiry_date if user else None)
    purge = cleaned.get("purge_date", user.purge_date if user else None)
    if expiry and purge and purge < expiry and "purge_date" not in errors:
        errors["purge_date"] = "The purge date cannot be before the expiry date."
    unchanged = user is not None and cleaned.get("primary_id") == getattr(user, "primary_id", None)
    if "primary_id" in cleaned and not errors.get("primary_id") and not unchanged:
        problem = identifier_taken(cleaned["primary_id"], user, for_primary=True)
        if problem:
            errors["primary_id"] = problem
    if errors:
        raise ValidationError(errors)
    return cleaned


def identifier_taken(value, user=None, *, segment_id=None, for_primary=False):
    """Return a message if VALUE identifies another user (or twice this one), else None."""
    owner = User.get_or_none(User.primary_id == value)
    if owner is not None and (user is None or owner.id != user.id):
        return "Another user already has this identifier."
    ident = Identifier.get_or_none(Identifier.value == value)
    if ident is None or ident.id == segment_id:
        return None
    if user is None or ident.user_id != user.id:
        return "Another user already has this identifier."
    return None if for_primary else "This user already has this identifier."


def clean_segment(change, user=None):
    """Return the cleaned values of a segment change, or raise ValidationError."""
    fields = SEGMENT_FIELDS[change.kind]
    model = SEGMENT_MODELS[change.kind]
    errors, cleaned = {}, {}
    for field in fields:
        if field not in change.values:
            continue
        raw = change.values[field]
        if field in SEGMENT_BOOLEANS or field in SEGMENT_DATES:
            _convert(field, raw, field in SEGMENT_DATES, change.key(field), cleaned, errors)
            continue
        text = "" if raw is None else str(raw).strip()
        limit = _max_length(model, field)
        if len(text) > limit:
            errors[change.key(field)] = f"Use at most {limit} characters."
            continue
        if field in TYPE_CHOICES and text and text not in TYPE_CHOICES[field]:
            errors[change.key(field)] = "Choose a type from the list."
            continue
        cleaned[field] = text
    if change.action == "add":
        for field in SEGMENT_REQUIRED[change.kind]:
            if not cleaned.get(field) and change.key(field) not in errors:
                errors[change.key(field)] = f"{fields[field]} is required."
    else:
        for field in SEGMENT_REQUIRED[change.kind]:
            if field in cleaned and not cleaned[field] and change.key(field) not in errors:
                errors[change.key(field)] = f"{fields[field]} is required."
    if change.kind == "emails" and cleaned.get("address") and change.key("address") not in errors:
        try:
            validate_email(cleaned["address"], check_deliverability=False)
        except EmailNotValidError:
            errors[change.key("address")] = "Enter an email address such as name@example.org."
    if change.kind == "identifiers" and cleaned.get("value") and change.key("value") not in errors:
        problem = identifier_taken(cleaned["value"], user, segment_id=change.segment_id)
        if problem:
            errors[change.key("value")] = problem
    if errors:
        raise ValidationError(errors)
    return cleaned


# ---------------------------------------------------------------- changes


def _check_version(user, version, submitted):
    if version is None or int(version) != user.version:
        raise EditConflict(user, submitted)


def _set_provenance(user, field, old_value, state, actor, when):
    """Record that FIELD of an external account was edited here, remembering the source's value."""
    existing = FieldState.get_or_none((FieldState.user == user) & (FieldState.field == field))
    if existing is None:
        FieldState.create(
            user=user,
            field=field,
            state=state,
            source_value=history.as_text(old_value),
            changed_at=when,
            changed_by=actor.name,
        )
        return None
    old_state = existing.state
    existing.state = state
    existing.changed_at = when
    existing.changed_by = actor.name
    existing.save()
    return old_state


def save_user(user_id, *, version, actor, fields=None, changes=(), opened=None):
    """Apply general field and segment changes to a user in one transaction; return the user.

    OPENED is None unless the staff member opened an external account for update; then
    it is TEMPORARY or PROTECTED, the answer to "Protect your changes from the next
    synchronization?". Raises Forbidden, ValidationError, EditConflict or NotFound and
    then stores nothing.
    """
    fields = dict(fields or {})
    changes = list(changes)
    submitted = {"fields": fields, "changes": changes}
    with db.atomic():
        user = get_user(user_id)
        require_edit(actor, user)
        _check_version(user, version, submitted)
        errors = {}
        try:
            cleaned = clean_general(fields, user)
        except ValidationError as exc:
            errors.update(exc.errors)
            cleaned = {}
        cleaned_segments = []
        for change in changes:
            try:
                cleaned_segments.append((change, clean_segment(change, user)))
            except ValidationError as exc:
                errors.update(exc.errors)
        _check_preferred(user, cleaned_segments, errors)
        _check_new_identifiers_distinct(cleaned_segments, errors)
        if errors:
            raise ValidationError(errors)

        when = now()
        log = []
        edited = {f: v for f, v in cleaned.items() if v != getattr(user, _attr(f))}
        if user.is_external:
            locked = [f for f in edited if f in SOURCE_MANAGED]
            if locked and opened not in (TEMPORARY, PROTECTED):
                raise Forbidden(
                    "These fields are managed by the source system; open the record for "
                    "update first: " + ", ".join(LABELS[f] for f in locked) + "."
                )
        for field, new in edited.items():
            old = getattr(user, _attr(field))
            log.append((LABELS[field], _shown(field, old), _shown(field, new)))
            setattr(user, _attr(field), new)
            if user.is_external:
                state = opened if field in SOURCE_MANAGED else PROTECTED
                before = _set_provenance(user, field, old, state, actor, when)
                if before != state:
                    log.append((f"{LABELS[field]} (provenance)", before or "source", state))
        for change, values in cleaned_segments:
            log.extend(_apply_segment(user, change, values, actor, opened, when))
        if not log:
            return user
        user.version += 1
        user.modified_at = when
        user.modified_by = actor.name
        user.save()
        history.record(user, actor.name, "staff", log, at=when)
        if _touches_search(edited, changes):
            search.index_users([user.id])
    return user


def _attr(field):
    return "rs_library_id" if field == "rs_library" else field


def _shown(field, value):
    if field == "rs_library" and value:
        library = Library.get_or_none(Library.id == value)
        return library.name if library else value
    return value


def _touches_search(edited, changes):
    names = set(search.NAME_FIELDS) | {"primary_id"}
    return bool(names & set(edited)) or any(c.kind in ("identifiers", "emails") for c in changes)


def _check_preferred(user, cleaned_segments, errors):
    """Add an error where a change would leave more than one preferred entry of a kind."""
    for kind in ("emails", "phones", "addresses"):
        marked = [c for c, v in cleaned_segments if c.kind == kind and v.get("preferred")]
        if len(marked) > 1:
            errors[marked[1].key("preferred")] = "Only one entry can be preferred."


def _check_new_identifiers_distinct(cleaned_segments, errors):
    seen = {}
    for change, values in cleaned_segments:
        if change.kind == "identifiers" and values.get("value"):
            folded = values["value"].lower()
            if folded in seen:
                errors[change.key("value")] = "The same identifier is entered twice."
            seen[folded] = change


def _segment_label(kind, segment):
    model_fields = SEGMENT_FIELDS[kind]
    first = next(iter(model_fields))
    return f"{SEGMENT_LABELS[kind]} {getattr(segment, first) or segment.id}"


def _describe(kind, segment):
    parts = [
        str(getattr(segment, f))
        for f in SEGMENT_FIELDS[kind]
        if getattr(segment, f) not in (None, "", False) and f not in SEGMENT_BOOLEANS
    ]
    for flag in SEGMENT_BOOLEANS:
        if flag in SEGMENT_FIELDS[kind] and getattr(segment, flag):
            parts.append(SEGMENT_FIELDS[kind][flag].lower())
    parts.append(f"({segment.segment})")
    return ", ".join(parts)


def _apply_segment(user, change, values, actor, opened, when):
    """Apply one cleaned segment change; return its history entries."""
    model = SEGMENT_MODELS[change.kind]
    label = SEGMENT_LABELS[change.kind]
    log = []
    if change.action == "add":
        if change.as_external and not user.is_external:
            raise Forbidden("Only an external account has external segments.")
        segment = model(user=user, segment="external" if change.as_external else "internal")
        for field, value in values.items():
            setattr(segment, field, value)
        if change.kind == "notes":
            segment.created_by = actor.name
            segment.created_at = when
        if values.get("preferred"):
            log.extend(_clear_preferred(user, change.kind, None))
        segment.save(force_insert=True)
        log.append((label, None, _describe(change.kind, segment)))
        return log
    segment = model.get_or_none((model.id == change.segment_id) & (model.user == user))
    if segment is None:
        raise NotFound(f"{label} {change.segment_id} is not part of this user's record.")
    if user.is_external and segment.segment == "external":
        # Setting "preferred" alone is the library's choice; anything else is the source's.
        source_fields = [f for f in values if f != "preferred" and values[f] != getattr(segment, f)]
        if (change.action == "remove" or source_fields) and opened not in (TEMPORARY, PROTECTED):
            raise Forbidden(
                f"This {label.lower()} comes from the source system; open the record for update "
                "first, or add an internal one."
            )
    before = _describe(change.kind, segment)
    if change.action == "remove":
        segment.delete_instance()
        log.append((label, before, None))
        return log
    changed = {f: v for f, v in values.items() if v != getattr(segment, f)}
    if not changed:
        return log
    if changed.get("preferred"):
        log.extend(_clear_preferred(user, change.kind, segment.id))
    for field, value in changed.items():
        setattr(segment, field, value)
    if user.is_external and segment.segment == "external" and set(changed) - {"preferred"}:
        segment.edited_locally = True
    segment.save()
    log.append((label, before, _describe(change.kind, segment)))
    return log


def _clear_preferred(user, kind, keep_id):
    model = SEGMENT_MODELS[kind]
    log = []
    query = model.select().where((model.user == user) & (model.preferred == True))  # noqa: E712
    for other in query:
        if other.id == keep_id:
            continue
        before = _describe(kind, other)
        other.preferred = False
        other.save()
        log.append((SEGMENT_LABELS[kind], before, _describe(kind, other)))
    return log


def open_for_update(user_id, *, actor, protect):
    """Check that ACTOR may open an external account for update; return the provenance state."""
    user = get_user(user_id)
    require_edit(actor, user)
    if not user.is_external:
        raise Forbidden("An internal account is edited directly; it needs no Open for Update.")
    return PROTECTED if protect else TEMPORARY


def release_field(user_id, field, *, version, actor):
    """Give FIELD back to the source: restore the source's value and forget the local edit."""
    with db.atomic():
        user = get_user(user_id)
        require_edit(actor, user)
        _check_version(user, version, {"release": field})
        state = FieldState.get_or_none((FieldState.user == user) & (FieldState.field == field))
        if state is None:
            raise NotFound(f"{LABELS.get(field, field)} holds the source's value already.")
        old = getattr(user, _attr(field))
        restored = _from_text(field, state.source_value)
        setattr(user, _attr(field), restored)
        state.delete_instance()
        when = now()
        user.version += 1
        user.modified_at = when
        user.modified_by = actor.name
        user.save()
        history.record(
            user,
            actor.name,
            "staff",
            [
                (LABELS[field], _shown(field, old), _shown(field, restored)),
                (f"{LABELS[field]} (provenance)", state.state, "source"),
            ],
            at=when,
        )
        if field in search.NAME_FIELDS or field == "primary_id":
            search.index_users([user.id])
    return user


def _from_text(field, text):
    """Turn a stored text value back into FIELD's type."""
    if text is None:
        return None
    if field in DATE_FIELDS:
        return _parse_date(text) if text else None
    if field in BOOLEAN_FIELDS:
        return text == "yes"
    if field == "rs_library":
        return int(text) if text.isdigit() else None
    return text


def set_password(user_id, password, *, actor):
    """Set an internal account's password; every session of that account ends."""
    with db.atomic():
        user = get_user(user_id)
        if user.id != actor.user_id:
            require_edit(actor, user)
        if user.is_external:
            raise Forbidden("An external account signs in through its source system.")
        problem = password_problem(password)
        if problem:
            raise ValidationError({"password": problem})
        had = user.password_hash is not None
        user.password_hash = hash_secret(password)
        user.session_version += 1
        user.version += 1
        user.modified_at = now()
        user.modified_by = actor.name
        user.save()
        history.record(
            user, actor.name, "staff", [("Password", "(set)" if had else None, "(changed)")]
        )
    return user


def set_pin(user_id, pin, *, version, actor):
    """Set or clear the PIN (library-managed; stored hashed)."""
    with db.atomic():
        user = get_user(user_id)
        require_edit(actor, user)
        _check_version(user, version, {"pin": "…"})
        pin = (pin or "").strip()
        if pin and not (pin.isdigit() and 4 <= len(pin) <= 12):
            raise ValidationError({"pin": "A PIN is 4 to 12 digits."})
        had = user.pin_hash is not None
        user.pin_hash = hash_secret(pin) if pin else None
        user.version += 1
        user.modified_at = now()
        user.modified_by = actor.name
        user.save()
        history.record(
            user,
            actor.name,
            "staff",
            [("PIN", "(set)" if had else None, "(changed)" if pin else None)],
        )
        if user.is_external:
            _set_provenance(user, "pin", None, PROTECTED, actor, user.modified_at)
    return user


def possible_duplicates(values, limit=10):
    """Return users with the same name and birth date, or the same email, as VALUES."""
    from webapp.models import Email

    found = {}
    first = (values.get("first_name") or "").strip().lower()
    last = (values.get("last_name") or "").strip().lower()
    birth = (values.get("birth_date") or "").strip()
    if last and birth:
        try:
            born = _parse_date(birth)
        except ValueError:
            born = None
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


def create_user(values, *, actor, identifier=None, email=None, password=None):
    """Create an internal account from VALUES with an optional identifier, email and password."""
    require(actor, "users.edit", "Your account is missing a user management role.")
    values = dict(values)
    values.setdefault("status", "active")
    errors = {}
    try:
        cleaned = clean_general({f: values.get(f, "") for f in GENERAL_FIELDS})
    except ValidationError as exc:
        errors.update(exc.errors)
        cleaned = {}
    changes = []
    if identifier and (identifier.get("value") or "").strip():
        changes.append(SegmentChange("identifiers", "add", identifier))
    if email and (email.get("address") or "").strip():
        changes.append(SegmentChange("emails", "add", {"preferred": "on", **email}))
    cleaned_segments = []
    for change in changes:
        try:
            cleaned_segments.append((change, clean_segment(change)))
        except ValidationError as exc:
            errors.update(exc.errors)
    ident_value = cleaned_segments and changes[0].kind == "identifiers"
    if ident_value and cleaned.get("primary_id"):
        if cleaned_segments[0][1]["value"].lower() == cleaned["primary_id"].lower():
            errors["identifiers.new.value"] = "This is already the primary identifier."
    if password:
        problem = password_problem(password)
        if problem:
            errors["password"] = problem
    if errors:
        raise ValidationError(errors)
    with db.atomic():
        when = now()
        user = User.create(
            **{_attr(k): v for k, v in cleaned.items()},
            record_type="public",
            account_type="internal",
            password_hash=hash_secret(password) if password else None,
            created_at=when,
            created_by=actor.name,
            modified_at=when,
            modified_by=actor.name,
        )
        log = [(LABELS[f], None, _shown(f, v)) for f, v in cleaned.items() if v not in (None, "")]
        for change, seg_values in cleaned_segments:
            log.extend(_apply_segment(user, change, seg_values, actor, None, when))
        log.insert(0, ("Record", None, "created"))
        history.record(user, actor.name, "staff", log, at=when)
        search.index_users([user.id])
    return user


def change_account_type(user_id, *, version, actor, to, password=None, source=None,
                        external_id=None):
    """Turn an internal account external or back; every value is kept."""
    with db.atomic():
        user = get_user(user_id)
        require(actor, "users.admin", "Only a User Administrator changes an account type.")
        _check_version(user, version, {"account_type": to})
        if to not in ("internal", "external") or to == user.account_type:
            raise ValidationError({"account_type": f"The account is already {user.account_type}."})
        log = [(LABELS["account_type"], user.account_type, to)]
        if to == "internal":
            problem = password_problem(password or "")
            if problem:
                raise ValidationError({"password": problem})
            user.password_hash = hash_secret(password)
            log.append(("Password", None, "(set)"))
            states = list(FieldState.select().where(FieldState.user == user))
            for state in states:
                log.append((f"{LABELS.get(state.field, state.field)} (provenance)", state.state,
                            "internal account"))
            FieldState.delete().where(FieldState.user == user).execute()
        else:
            errors = {}
            source = (source or "").strip()
            external_id = (external_id or "").strip()
            if not source:
                errors["source"] = "Source system is required."
            if not external_id:
                errors["external_id"] = "External ID is required."
            elif User.get_or_none(
                (User.source == source) & (User.external_id == external_id) & (User.id != user.id)
            ):
                errors["external_id"] = "Another user has this external ID in that source."
            if errors:
                raise ValidationError(errors)
            log.append((LABELS["source"], user.source, source))
            log.append((LABELS["external_id"], user.external_id, external_id))
            if user.password_hash:
                log.append(("Password", "(set)", None))
            user.source, user.external_id, user.password_hash = source, external_id, None
        user.account_type = to
        user.session_version += 1
        user.version += 1
        user.modified_at = now()
        user.modified_by = actor.name
        user.save()
        history.record(user, actor.name, "staff", log, at=user.modified_at)
    return user
