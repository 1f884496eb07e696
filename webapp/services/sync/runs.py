"""The life of a run: preview, apply exactly what was previewed, or synchronize in one step.

A preview only reports the differences. Applying computes them again inside one
transaction, writes them as it goes, and commits only if they are exactly what the
preview showed (same digest); otherwise the transaction is rolled back and nothing is
written. A file never changes an internal account, roles, or another source's users.
"""

import contextlib
import hashlib
import json
import logging

from webapp import db as database
from webapp.db import db
from webapp.models import SyncRun
from webapp.services import DomainError, NotFound, ValidationError, jobs
from webapp.services.clock import now
from webapp.services.fields import max_length
from webapp.services.sync.entries import decode
from webapp.services.sync.passes import Pass
from webapp.services.sync.report import report
from webapp.services.text import clean, rule_of, shown

sync_log = logging.getLogger("webapp.sync")

# Run statuses.
RUNNING = jobs.RUNNING
INTERRUPTED = jobs.INTERRUPTED  # its process died; nothing of it was applied
PREVIEWED = "previewed"
DRY_RUN = "dry run"
APPLIED = "applied"
REJECTED = "rejected"
STALE = "stale"
FAILED = "failed"


class SyncRefused(DomainError):
    """The run cannot be applied (already applied, rejected, or its file is gone)."""


class StalePreview(SyncRefused):
    """The database changed since the preview: nothing was applied; preview again."""


class _Rollback(Exception):
    """Raised inside the apply transaction to undo everything it wrote."""


def _read_transaction():
    """Return a transaction that sees one consistent snapshot and takes no write lock."""
    return db.atomic("DEFERRED") if database.is_sqlite() else db.atomic()


def get_run(run_id):
    """Return the run with RUN_ID or raise NotFound."""
    jobs.mark_interrupted_runs()
    run = SyncRun.get_or_none(SyncRun.id == run_id)
    if run is None:
        raise NotFound(f"There is no synchronization run {run_id}.")
    return run


def recent_runs(limit=50):
    """Return the latest runs, newest first; runs whose process died show as interrupted."""
    jobs.mark_interrupted_runs()
    return list(SyncRun.select().order_by(SyncRun.id.desc()).limit(limit))


def _start(data, *, filename, source, actor, options):
    """Record a new run and return it with its decoded file."""
    source = clean((source or "").strip(), "source")
    filename = clean(filename or "upload", "file", rule_of("filename"))
    errors = {}
    if not source:
        errors["source"] = "Source system is required."
    elif len(source) > max_length(SyncRun, "source"):
        errors["source"] = f"Use at most {max_length(SyncRun, 'source')} characters."
    if errors:
        raise ValidationError(errors)
    sync_file = decode(data, filename, options.get("max_bytes"))
    with db.atomic():
        run = SyncRun.create(at=now(), by=actor.name, source=source,
                             filename=filename[: max_length(SyncRun, "filename")],
                             sha256=hashlib.sha256(data).hexdigest(), status=RUNNING,
                             **jobs.owner_fields())
    return run, sync_file


_NOTHING = {"counts": {}, "errors": [], "errors_total": 0, "diffs": [], "diffs_total": 0,
            "overwritten": [], "overwritten_total": 0, "digest": None}


def _finish(run, status, sync_file, result, options):
    """Store the outcome of a pass on RUN (call inside the transaction that wrote it)."""
    if sync_file.errors:
        # A file rejected as a whole changes nothing: only its errors are worth reading.
        result = dict(_NOTHING, errors=result["errors"] if result else [],
                      errors_total=result["errors_total"] if result else 0)
    counts = result["counts"]
    for key in ("created", "updated", "unchanged", "deactivated", "rejected"):
        setattr(run, key, counts.get(key, 0))
    run.status = status
    # A rejected row or file is quoted as the file gave it: escaped, it stores and shows safely.
    result = dict(result, errors=[dict(e, external_id=shown(e["external_id"] or ""),
                                       message=shown(e["message"])) for e in result["errors"]])
    body = dict(result, format=sync_file.format, rows=sync_file.total,
                file_errors=[shown(m) for m in sync_file.errors],
                message=_outcome_message(status, sync_file, result),
                options={k: v for k, v in options.items() if k != "max_bytes"})
    run.report = json.dumps(body, ensure_ascii=False, default=str)
    run.save()
    sync_log.info("run %s %s: source=%s file=%s rows=%s created=%s updated=%s unchanged=%s "
                  "deactivated=%s rejected=%s", run.id, status, run.source, run.filename,
                  sync_file.total, run.created, run.updated, run.unchanged, run.deactivated,
                  run.rejected, extra={"run": run.id, "outcome": status, "counts": counts})
    return run


def _outcome_message(status, sync_file, result):
    """Return the one-line outcome of a run as its page and the command show it."""
    if sync_file.errors:
        return "Rejected: the file cannot be used as it is; nothing was changed."
    counts = result["counts"]
    rows_have = "row has" if counts["rejected"] == 1 else "rows have"
    summary = ", ".join(f"{counts[k]:,} {k}" for k in ("created", "updated", "unchanged", "deactivated",
                                                       "rejected"))
    return {
        PREVIEWED: f"Preview: {summary}. Nothing changes until you confirm.",
        DRY_RUN: f"Dry run: {summary}. Nothing was changed.",
        APPLIED: f"Applied: {summary}.",
        REJECTED: f"Rejected: {counts['rejected']:,} {rows_have} errors; nothing was changed.",
        STALE: "Not applied: the records changed since this preview. Preview the file again.",
    }[status]


def _status(sync_file, result, options, ok):
    """Return OK, or REJECTED when the file or (without skip_invalid) a row has errors."""
    if sync_file.errors or (result["errors_total"] and not options["skip_invalid"]):
        return REJECTED
    return ok


def _pass(run, actor, options, progress, write):
    """Return a Pass over RUN's file with the run's options."""
    return Pass(run.source, actor, run.id, write=write, deactivate_missing=options["deactivate_missing"],
                 skip_invalid=options["skip_invalid"], progress=progress)


def _read_pass(run, sync_file, actor, options, progress):
    """Compare SYNC_FILE with one snapshot of the database; return the report."""
    work = _pass(run, actor, options, progress, write=False)
    with jobs.Heartbeat(run.id), _read_transaction():
        work.run(sync_file)
    return work.report()


@contextlib.contextmanager
def _failing(run):
    """Mark RUN failed, with the reason, whatever the block raises (a refusal aside); re-raise it.

    Every write of a run is one transaction, rolled back by then: nothing was changed.
    A process killed on the way leaves the run running; jobs marks it interrupted.
    """
    try:
        yield
    except SyncRefused:
        raise
    except BaseException as exc:
        reason = shown(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:500]
        message = (f"Failed: the run stopped on an error ({reason}); nothing was changed. "
                   "Tell your system administrator if it happens again.")
        sync_log.exception("run %s failed: source=%s file=%s", run.id, run.source, run.filename,
                           extra={"run": run.id, "outcome": FAILED})
        try:
            # An apply that fails keeps the report of its preview, with the reason.
            body = json.dumps(dict(report(run), message=message), default=str)
            with db.atomic():
                SyncRun.update(status=FAILED, report=body).where(SyncRun.id == run.id).execute()
            run.status = FAILED
        except Exception:
            sync_log.exception("run %s could not be marked failed", run.id)
        raise


def _write_pass(run, sync_file, actor, options, progress, expected=None):
    """Compare and write in one transaction; commit only if the run is acceptable.

    EXPECTED is the previewed report: the writes are kept only when they have the same
    digest and counts. Returns (status, report); unless APPLIED nothing was written.
    """
    work = _pass(run, actor, options, progress, write=True)
    outcome = {}
    try:
        with jobs.Heartbeat(run.id), db.atomic():
            if expected is not None:
                fresh = SyncRun.get_by_id(run.id)
                if fresh.status != PREVIEWED:
                    raise SyncRefused(f"This run is {fresh.status}; it cannot be applied.")
            work.run(sync_file)
            result = outcome["result"] = work.report()
            outcome["status"] = _status(sync_file, result, options, APPLIED)
            if outcome["status"] == APPLIED and expected is not None and (
                result["digest"] != expected.get("digest") or result["counts"] != expected.get("counts")
            ):
                outcome["status"] = STALE
            if outcome["status"] != APPLIED:
                raise _Rollback
            _finish(run, APPLIED, sync_file, result, options)
    except _Rollback:
        pass
    return outcome["status"], outcome["result"]


def _options(deactivate_missing, skip_invalid, max_bytes):
    """Return the options of a run as a dict."""
    return {"deactivate_missing": bool(deactivate_missing), "skip_invalid": bool(skip_invalid),
            "max_bytes": max_bytes}


def preview(data, *, filename, source, actor, deactivate_missing=False, skip_invalid=False,
            max_bytes=None, progress=None):
    """Compute and record what synchronizing DATA would change; change nothing else."""
    options = _options(deactivate_missing, skip_invalid, max_bytes)
    run, sync_file = _start(data, filename=filename, source=source, actor=actor, options=options)
    with _failing(run):
        result = None if sync_file.errors else _read_pass(run, sync_file, actor, options, progress)
        status = REJECTED if result is None else _status(sync_file, result, options, PREVIEWED)
        with db.atomic():
            return _finish(run, status, sync_file, result, options)


def apply(run_id, data, *, actor, max_bytes=None, progress=None):
    """Apply a previewed run exactly as it was previewed, or raise and change nothing."""
    run = get_run(run_id)
    if run.status != PREVIEWED:
        raise SyncRefused(f"This run is {run.status}; only a previewed run can be applied.")
    if data is None or hashlib.sha256(data).hexdigest() != run.sha256:
        raise SyncRefused("The file of this preview is no longer here; upload it again.")
    previous = report(run)
    options = _options(previous["options"].get("deactivate_missing"),
                       previous["options"].get("skip_invalid"), max_bytes)
    sync_file = decode(data, run.filename, max_bytes)
    if sync_file.errors:
        raise SyncRefused("The file of this preview can no longer be read; upload it again.")
    with _failing(run):
        status, result = _write_pass(run, sync_file, actor, options, progress, expected=previous)
        if status != APPLIED:
            with db.atomic():
                _finish(run, STALE, sync_file, previous, options)
    if status != APPLIED:
        raise StalePreview("The records changed since this preview, so nothing was applied. "
                           "Preview the file again to see the changes as they are now.")
    return get_run(run.id)


def synchronize(data, *, filename, source, actor, dry_run=False, deactivate_missing=False,
                skip_invalid=False, max_bytes=None, progress=None):
    """Preview DATA and, unless DRY_RUN, apply it in one transaction; return the recorded run."""
    options = _options(deactivate_missing, skip_invalid, max_bytes)
    run, sync_file = _start(data, filename=filename, source=source, actor=actor, options=options)
    with _failing(run):
        result, status = None, REJECTED
        if not sync_file.errors and dry_run:
            result = _read_pass(run, sync_file, actor, options, progress)
            status = _status(sync_file, result, options, DRY_RUN)
        elif not sync_file.errors:
            status, result = _write_pass(run, sync_file, actor, options, progress)
        if status != APPLIED:
            with db.atomic():
                _finish(run, status, sync_file, result, options)
    return get_run(run.id)
