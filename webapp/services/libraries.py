"""The institution's libraries: add, rename, choose the main one, delete one nobody uses."""

from webapp.db import db
from webapp.models import Library, RoleAssignment, RoleScope, User
from webapp.services import config_changes
from webapp.services.errors import NotFound, ValidationError
from webapp.services.permissions import require

CODE_LENGTH = 32
NAME_LENGTH = 200


def list_libraries():
    """Return every library, the main library first, then by name."""
    return list(Library.select().order_by(Library.is_main.desc(), Library.name))


def get_library(library_id):
    """Return the library with LIBRARY_ID or raise NotFound."""
    library = Library.get_or_none(Library.id == library_id)
    if library is None:
        raise NotFound(f"No library with id {library_id}.")
    return library


def _clean_name(name, errors, library=None):
    name = (name or "").strip()
    if not name:
        errors["name"] = "A name is required."
    elif len(name) > NAME_LENGTH:
        errors["name"] = f"At most {NAME_LENGTH} characters."
    else:
        taken = Library.select().where(Library.name == name)
        if library is not None:
            taken = taken.where(Library.id != library.id)
        if taken.exists():
            errors["name"] = "Another library already has this name."
    return name


def add_library(code, name, *, actor):
    """Add a library (the first one becomes the main library); return it."""
    require(actor, "system.admin")
    errors = {}
    code = (code or "").strip().upper()
    if not code:
        errors["code"] = "A code is required."
    elif len(code) > CODE_LENGTH or not code.replace("-", "").replace("_", "").isalnum():
        errors["code"] = f"Letters, digits, - or _, at most {CODE_LENGTH} characters."
    elif Library.select().where(Library.code == code).exists():
        errors["code"] = "Another library already has this code."
    name = _clean_name(name, errors)
    if errors:
        raise ValidationError(errors)
    with db.atomic():
        first = not Library.select().exists()
        library = Library.create(code=code, name=name, is_main=first)
        config_changes.record(actor, "library", code, [
            ("Code", None, code), ("Name", None, name), ("Main library", None, first or None)])
    return library


def rename_library(library_id, name, *, actor):
    """Give a library a new name; return it."""
    require(actor, "system.admin")
    library = get_library(library_id)
    errors = {}
    name = _clean_name(name, errors, library)
    if errors:
        raise ValidationError(errors)
    with db.atomic():
        Library.update(name=name).where(Library.id == library.id).execute()
        config_changes.record(actor, "library", library.code, [("Name", library.name, name)])
    library.name = name
    return library


def set_main_library(library_id, *, actor):
    """Make a library the main library (and no other); return it."""
    require(actor, "system.admin")
    library = get_library(library_id)
    with db.atomic():
        for other in Library.select().where(Library.is_main & (Library.id != library.id)):
            config_changes.record(actor, "library", other.code, [("Main library", True, False)])
        config_changes.record(actor, "library", library.code,
                              [("Main library", library.is_main, True)])
        Library.update(is_main=(Library.id == library.id)).execute()
    library.is_main = True
    return library


def uses_of(library):
    """Return sentences saying where LIBRARY is used; an empty list means it may be deleted."""
    uses = []
    scoped = list(
        RoleAssignment.select(RoleAssignment.role, User.primary_id)
        .join(RoleScope).switch(RoleAssignment).join(User)
        .where(RoleScope.library == library).order_by(User.primary_id).tuples()
    )
    if scoped:
        holders = ", ".join(f"{who} ({role})" for role, who in scoped[:5])
        more = f" and {len(scoped) - 5} more" if len(scoped) > 5 else ""
        uses.append(f"the scope of {_count(len(scoped), 'role assignment')}: {holders}{more}")
    sharing = User.select().where(User.rs_library == library).count()
    if sharing:
        uses.append(f"the resource sharing library of {_count(sharing, 'user')}")
    for node, fk in library.dependencies(search_nullable=True):
        # Any other table that points at libraries (items, loans…) also keeps it.
        if fk.rel_model is not Library or fk.model in (RoleScope, User):
            continue
        count = fk.model.select().where(node).count()
        if count:
            uses.append(_count(count, f"{fk.model.__name__.lower()} record"))
    return uses


def _count(n, noun):
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def delete_library(library_id, *, actor):
    """Delete a library nobody uses; refuse, saying where it is used, otherwise."""
    require(actor, "system.admin")
    library = get_library(library_id)
    with db.atomic():
        uses = uses_of(library)
        if uses:
            raise ValidationError({"library": (
                f"{library.name} cannot be deleted: it is " + "; ".join(uses)
                + ". Change those first."
            )})
        others = Library.select().where(Library.id != library.id)
        if library.is_main and others.exists():
            raise ValidationError({"library": (
                f"{library.name} is the main library: set another library as the main "
                "library first."
            )})
        Library.delete().where(Library.id == library.id).execute()
        config_changes.record(actor, "library", library.code, [
            ("Code", library.code, None), ("Name", library.name, None),
            ("Main library", library.is_main or None, None)])
    return library
