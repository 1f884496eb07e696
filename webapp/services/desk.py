"""Patron Services: find the patron at the desk and read what the desk shows of them.

Every change goes through services/users.py; this module only reads.
"""

import dataclasses
import datetime

from webapp.db import prepared
from webapp.models import SEGMENT_MODELS, Block, Note, User
from webapp.services import clock, search

PICK_LIST_SIZE = 10
EXPIRY_WARNING_DAYS = 30
MAX_QUERY = 200
# The preferred entry of each contact kind and the fields the quick form edits.
CONTACT_FIELDS = {
    "emails": ("address",),
    "phones": ("number",),
    "addresses": ("line1", "line2", "city", "region", "postal_code", "country"),
}


@dataclasses.dataclass
class Lookup:
    """What the find field found: one patron, a pick list of name matches, or nothing."""

    query: str
    patron: User | None = None
    matches: list = dataclasses.field(default_factory=list)
    more: bool = False

    @property
    def found_nothing(self):
        """Tell whether something was typed and nobody matched it."""
        return bool(self.query) and self.patron is None and not self.matches


def find_patron(query):
    """Find the patron for what was scanned or typed: an identifier, an email or a name."""
    query = (query or "").strip()[:MAX_QUERY]
    if not query:
        return Lookup(query)
    user = search.find_by_identifier(query)
    if user is None and "@" in query:
        user = search.find_by_email(query)
    if user is not None:
        return Lookup(query, patron=user)
    matches, more = patrons_named(query)
    return Lookup(query, matches=matches, more=more)


def patrons_named(query, limit=PICK_LIST_SIZE):
    """Return ([users], more): the first LIMIT patrons the user search finds for QUERY."""
    results = search.search_users(query, page_size=limit)
    return [user for user, _tier in results.users], results.total > limit


def expiry_flag(user, today=None):
    """Return 'expired', 'soon' (within EXPIRY_WARNING_DAYS) or None for USER's expiry date."""
    if user.expiry_date is None:
        return None
    today = today or clock.today()
    if user.expiry_date < today:
        return "expired"
    if user.expiry_date <= today + datetime.timedelta(days=EXPIRY_WARNING_DAYS):
        return "soon"
    return None


@dataclasses.dataclass
class PatronSummary:
    """What the Patron Services page shows of a patron."""

    user: User
    expiry: str | None
    blocks: list
    desk_notes: list
    contacts: dict  # kind -> the preferred segment, or None


def active_blocks(user, today=None):
    """Return the patron's blocks that have not expired."""
    today = today or clock.today()
    return list(prepared("blocks", Block, lambda: (
        Block.select()
        .where((Block.user == 0) & (Block.expires_on.is_null() | (Block.expires_on >= today)))
        .order_by(Block.id)
    ), user.id, today))


def desk_notes(user):
    """Return the patron's notes marked "show at the desk", newest first."""
    return list(prepared("notes", Note, lambda: (
        Note.select()
        .where((Note.user == 0) & (Note.show_at_desk == True))  # noqa: E712
        .order_by(Note.created_at.desc(), Note.id.desc())
    ), user.id, True))


def contact_entries(user, kind):
    """Return the user's entries of a contact KIND, the preferred one first."""
    model = SEGMENT_MODELS[kind]
    return list(prepared(kind, model, lambda: (
        model.select().where(model.user == 0).order_by(model.preferred.desc(), model.id)
    ), user.id))


def preferred(user, kind):
    """Return the user's preferred entry of a contact KIND, or None."""
    return next((e for e in contact_entries(user, kind) if e.preferred), None)


def patron_summary(user, today=None):
    """Return the summary the desk shows of USER."""
    return PatronSummary(
        user=user,
        expiry=expiry_flag(user, today),
        blocks=active_blocks(user, today),
        desk_notes=desk_notes(user),
        contacts={kind: preferred(user, kind) for kind in CONTACT_FIELDS},
    )


@dataclasses.dataclass
class ContactSlot:
    """The preferred email, phone or address as Edit User Info edits it.

    TARGET is the internal preferred entry the form updates; without one, a changed
    value is added as a new internal entry marked preferred (on an external account the
    source's entries stay as they are, and synchronization keeps the internal one).
    """

    kind: str
    fields: tuple
    shown: object  # the preferred entry whose values the form starts from, or None
    target: object  # the internal entry to update, or None
    source_entries: list  # the source's entries, shown read-only

    @property
    def key(self):
        """Return the form name prefix of this slot: kind and segment id, or 'new'."""
        return f"{self.kind}.{self.target.id if self.target else 'new'}"

    def name(self, field):
        """Return the form name of FIELD, which the user service keys errors by."""
        return f"{self.key}.{field}"

    def current(self):
        """Return the values the form starts from."""
        return {f: (getattr(self.shown, f) or "") if self.shown else "" for f in self.fields}


def contact_slots(user):
    """Return the quick form's contact slots of USER: email, phone, address."""
    slots = []
    for kind, fields in CONTACT_FIELDS.items():
        entries = contact_entries(user, kind)
        shown = next((e for e in entries if e.preferred), None)
        target = shown if shown is not None and shown.segment == "internal" else None
        source = [e for e in entries if e.segment == "external"] if user.is_external else []
        slots.append(ContactSlot(kind, fields, shown, target, source))
    return slots
