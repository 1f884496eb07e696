"""The uploaded files that wait for their confirmation, kept under <instance>/sync/<sha256>.

An upload is kept only when its preview can be applied, and removed once applied or
after a week.
"""

import hashlib
import time
from pathlib import Path

from webapp.services.sync.report import report
from webapp.services.sync.runs import PREVIEWED, SyncRefused, apply, get_run, preview

# An uploaded file waits for its confirmation this long; older ones are removed.
KEEP_UPLOADS_SECONDS = 7 * 24 * 3600


def _folder(instance_path):
    """Return the folder of stored uploads under INSTANCE_PATH, made if missing."""
    folder = Path(instance_path) / "sync"
    folder.mkdir(exist_ok=True)
    return folder


def keep_upload(instance_path, data):
    """Store an uploaded file under its SHA-256 until it is applied; drop stale ones."""
    folder = _folder(instance_path)
    cutoff = time.time() - KEEP_UPLOADS_SECONDS
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    (folder / hashlib.sha256(data).hexdigest()).write_bytes(data)


def upload_of(instance_path, run):
    """Return the stored file of RUN, or None when it is gone."""
    path = _folder(instance_path) / run.sha256
    return path.read_bytes() if path.exists() else None


def drop_upload(instance_path, run):
    """Remove the stored file of RUN (it has been applied)."""
    (_folder(instance_path) / run.sha256).unlink(missing_ok=True)


def preview_upload(instance_path, data, **options):
    """Preview an uploaded file and, when it can be applied, keep it for the confirmation."""
    run = preview(data, **options)
    if run.status == PREVIEWED:
        keep_upload(instance_path, data)
    return run


def apply_upload(instance_path, run_id, *, actor, max_bytes=None):
    """Apply a previewed run with its kept file, then drop the file; raise SyncRefused if not."""
    run = apply(run_id, upload_of(instance_path, get_run(run_id)), actor=actor, max_bytes=max_bytes)
    drop_upload(instance_path, run)
    return run


def preview_again(instance_path, run_id, *, actor, max_bytes=None):
    """Preview the kept file of an earlier run again, against the records as they are now."""
    run = get_run(run_id)
    data = upload_of(instance_path, run)
    if data is None:
        raise SyncRefused("The file of this run is no longer here; upload it again.")
    options = report(run)["options"]
    return preview(data, filename=run.filename, source=run.source, actor=actor,
                   deactivate_missing=options.get("deactivate_missing", False),
                   skip_invalid=options.get("skip_invalid", False), max_bytes=max_bytes)
