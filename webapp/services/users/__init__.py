"""The user service: validation, provenance, edit conflicts and history for every change.

User Details, Patron Services and Add user all go through these functions, so a rule
is written once. Every change runs in one transaction and ends in ``record_change``.
"""

from webapp.services.permissions import require_edit
from webapp.services.users.accounts import change_account_type, create_user, set_password
from webapp.services.users.changes import record_change, record_changes
from webapp.services.users.edits import open_for_update, release_field, save_user
from webapp.services.users.reads import (
    form_value,
    form_values,
    get_user,
    library_choices,
    multiple_libraries,
    possible_duplicates,
    provenance,
    segments,
)
from webapp.services.users.segments import describe
from webapp.services.users.validation import (
    SegmentChange,
    clean_general,
    clean_segment,
    identifier_taken,
    segment_problems,
)

__all__ = [
    "SegmentChange",
    "change_account_type",
    "clean_general",
    "clean_segment",
    "create_user",
    "describe",
    "form_value",
    "form_values",
    "get_user",
    "identifier_taken",
    "library_choices",
    "multiple_libraries",
    "open_for_update",
    "possible_duplicates",
    "provenance",
    "record_change",
    "record_changes",
    "release_field",
    "require_edit",
    "save_user",
    "segment_problems",
    "segments",
    "set_password",
]
