"""Synchronization: load a source system's CSV or JSON export into its external accounts.

A run reads the file (entries, csv_format, json_format, rows), compares it with the
database a chunk of users at a time (passes, stored, compare), writes what changed
(writer, queries) and reports it (report). runs holds a run's life: preview, apply and
synchronize; uploads keeps the uploaded files that wait for their confirmation.
"""

from webapp.services.sync.json_format import JSON_KEYS
from webapp.services.sync.report import report
from webapp.services.sync.runs import (
    APPLIED,
    DRY_RUN,
    FAILED,
    INTERRUPTED,
    PREVIEWED,
    REJECTED,
    RUNNING,
    STALE,
    StalePreview,
    SyncRefused,
    apply,
    get_run,
    preview,
    recent_runs,
    synchronize,
)
from webapp.services.sync.uploads import (
    KEEP_UPLOADS_SECONDS,
    apply_upload,
    drop_upload,
    keep_upload,
    preview_again,
    preview_upload,
    upload_of,
)

__all__ = [
    "APPLIED", "DRY_RUN", "FAILED", "INTERRUPTED", "JSON_KEYS", "KEEP_UPLOADS_SECONDS", "PREVIEWED",
    "REJECTED", "RUNNING", "STALE", "StalePreview", "SyncRefused", "apply", "apply_upload", "drop_upload",
    "get_run", "keep_upload", "preview", "preview_again", "preview_upload", "recent_runs", "report",
    "synchronize", "upload_of",
]
