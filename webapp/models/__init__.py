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

ALL_MODELS = [
    Library,
    Setting,
    User,
    Identifier,
    Email,
    Phone,
    Address,
    Note,
    Block,
    FieldState,
    RoleAssignment,
    History,
    SignInLog,
    Loan,
    SyncRun,
    SyncState,
]

__all__ = [
    "ALL_MODELS",
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
