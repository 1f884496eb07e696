"""Database models, one module per aggregate."""

from webapp.models.config_changes import CONFIG_KINDS, ConfigChange
from webapp.models.history import History, SignInLog
from webapp.models.items import Item, LoanPolicy
from webapp.models.libraries import Library, Setting
from webapp.models.loans import Loan
from webapp.models.roles import RoleAssignment, RoleScope
from webapp.models.search import SearchEntry
from webapp.models.sessions import SignInLimit, StaffSession
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
    "CONFIG_KINDS",
    "SEGMENT_MODELS",
    "Address",
    "Block",
    "ConfigChange",
    "Email",
    "FieldState",
    "History",
    "Identifier",
    "Item",
    "Library",
    "Loan",
    "LoanPolicy",
    "Note",
    "Phone",
    "RoleAssignment",
    "RoleScope",
    "SearchEntry",
    "Setting",
    "SignInLimit",
    "SignInLog",
    "StaffSession",
    "SyncRun",
    "SyncState",
    "User",
]
