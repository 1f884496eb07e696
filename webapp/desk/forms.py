"""The desk's forms: the Edit User Info quick form, and what the loans section's forms sent.

The forms check nothing themselves; every rule is in the user and circulation services.
"""

import datetime

from webapp.services import ValidationError, fields
from webapp.services import desk as desk_service
from webapp.services import users as user_service
from webapp.services.users import SegmentChange
from webapp.web import posted_segment, segment_values

NOTE_TYPE = "circulation"


def library_fields():
    """Return the library-managed fields the quick form offers."""
    return [
        f for f in fields.LIBRARY_MANAGED
        if f != "rs_library" or user_service.multiple_libraries()
    ]


class QuickForm:
    """Preferred email, phone and address, library-managed fields and a new desk note."""

    def __init__(self, user, contacts, fields, note_text="", note_show=True, library=None):
        self.user = user
        self.slots = desk_service.contact_slots(user)
        self.library = library if library is not None else library_fields()
        self.contacts = contacts  # kind -> {field: typed} or None when not sent
        self.fields = fields  # library-managed field -> typed string, as sent
        self.note_text = note_text
        self.note_show = note_show

    @classmethod
    def from_user(cls, user):
        """Return the form filled with USER's current values."""
        form = cls(user, {}, {})
        form.contacts = {slot.kind: slot.current() for slot in form.slots}
        form.fields = {f: v for f, v in user_service.form_values(user).items() if f in form.library}
        return form

    @classmethod
    def from_request(cls, user, data):
        """Return the form as posted in DATA (a MultiDict), laid over USER's current slots.

        A contact is read whatever segment id its inputs carry, so a form loaded before
        someone else's change can still be shown again on the current record.
        """
        contacts = {}
        for kind, kind_fields in desk_service.CONTACT_FIELDS.items():
            prefix = posted_segment(data, kind)
            typed = segment_values(data, kind, prefix) if prefix else {}
            contacts[kind] = {f: v for f, v in typed.items() if f in kind_fields} or None
        # A checkbox sends nothing when unticked; its hidden twin says it was on the form.
        # A field not sent at all keeps its value.
        library = library_fields()
        fields = {f: v for f, v in user_service.form_values(user).items() if f in library}
        fields.update({f: data.getlist(f)[-1] for f in library if f in data})
        note = segment_values(data, "notes", "notes.new")
        return cls(user, contacts, fields, note.get("text", ""), note["show_at_desk"] == "on",
                   library)

    def loaded(self):
        """Return {input name: value} of every input as this form shows it."""
        values = {slot.name(f): self.value(slot, f) for slot in self.slots for f in slot.fields}
        values.update({f: self.fields.get(f, "") for f in self.library})
        values["notes.new.text"] = self.note_text
        values["notes.new.show_at_desk"] = "on" if self.note_show else ""
        return values

    def value(self, slot, field):
        """Return what the input of FIELD of SLOT shows."""
        typed = self.contacts.get(slot.kind)
        if typed is None:
            return slot.current()[field]
        return typed.get(field, "")

    def changes(self):
        """Return the segment changes the form asks for: changed contacts and a new note."""
        changes = []
        for slot in self.slots:
            typed = self.contacts.get(slot.kind)
            if typed is None or _same(typed, slot.current()):
                continue
            if slot.target is not None:
                changes.append(SegmentChange(slot.kind, "update", dict(typed),
                                             segment_id=slot.target.id))
            else:
                values = dict(slot.current(), **typed, preferred="on")
                changes.append(SegmentChange(slot.kind, "add", values))
        if self.note_text.strip():
            changes.append(SegmentChange("notes", "add", {
                "text": self.note_text,
                "show_at_desk": "on" if self.note_show else "",
                "note_type": NOTE_TYPE,
            }))
        return changes

    def differences(self, current_user):
        """Return (label, saved value, typed value) where this form differs from CURRENT_USER."""
        saved = QuickForm.from_user(current_user)
        rows = []
        labels = {"emails": "Preferred email", "phones": "Preferred phone",
                  "addresses": "Preferred address"}
        for slot in saved.slots:
            typed = self.contacts.get(slot.kind)
            if typed is not None and not _same(typed, slot.current()):
                rows.append((labels[slot.kind], _joined(slot.current()), _joined(typed)))
        for field, typed in self.fields.items():
            theirs = saved.fields.get(field, "")
            if field in fields.BOOLEAN_FIELDS:
                theirs, typed = _yes_no(theirs), _yes_no(typed)
            if str(theirs).strip() != str(typed).strip():
                rows.append((fields.LABELS[field], theirs, typed))
        if self.note_text.strip():
            rows.append(("New desk note", "", self.note_text.strip()))
        return rows


def _same(typed, current):
    """Tell whether every typed value equals the current one, spaces aside."""
    return all((typed.get(f) or "").strip() == (current.get(f) or "").strip() for f in typed)


def _joined(values):
    """Return contact VALUES as one line."""
    return ", ".join(v.strip() for v in values.values() if v and v.strip())


def _yes_no(value):
    """Return a checkbox value as Yes or No."""
    return "Yes" if value == "on" else "No"


def scanned_barcode(form):
    """Return the barcode scanned or typed into a Scan item box."""
    return (form.get("barcode") or "").strip()[:50]


def relink_due_date(form):
    """Return the due date given for a re-linked loan, or None to keep its own."""
    typed = (form.get("due_date") or "").strip()
    if not typed:
        return None
    try:
        return datetime.date.fromisoformat(typed)
    except ValueError as exc:
        raise ValidationError({"due_date": "Give the due date as YYYY-MM-DD."}) from exc
