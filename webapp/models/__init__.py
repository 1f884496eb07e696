"""Database models, one module per aggregate."""

from webapp.models.history import History, SignInLog
from webapp.models.libraries import Library, Setting
from webapp.models.loans import Loan
from webapp.models.roles import RoleAssignment
from webapp.models.sync import SyncRun, SyncState
from webapp.models.users import (
    SEGMENT_MODELS,
    Address,
    Block,
    Email,
    FieldState,
    Identifier,
    Note,
    Phone,
    User,
)

__all__ = [
    "SEGMENT_MODELS",
    "Address",
    "Block",
    "Email",
    "FieldState",
    "History",
    "Identifier",
    "Library",
    "Loan",
    "Note",
    "Phone",
    "RoleAssignment",
    "Setting",
    "SignInLog",
    "SyncRun",
    "SyncState",
    "User",
]
