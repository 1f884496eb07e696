"""Administration pages: libraries, and synchronization of external accounts."""

import hashlib
import time
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from webapp.models import Library
from webapp.security import current_actor, permission_required
from webapp.services import ValidationError, sync

bp = Blueprint("admin", __name__, url_prefix="/admin")

# An uploaded file waits for its confirmation this long; older ones are removed.
KEEP_UPLOADS_SECONDS = 7 * 24 * 3600


@bp.route("/")
@permission_required("system.admin")
def index():
    """Show the libraries and what an administrator can do."""
    return render_template("admin/index.html", libraries=list(Library.select().order_by(Library.name)))


# ---------------------------------------------------------------- synchronization


def _uploads():
    folder = Path(current_app.instance_path) / "sync"
    folder.mkdir(exist_ok=True)
    return folder


def _keep_upload(data):
    """Store an uploaded file under its SHA-256 until it is applied; drop stale ones."""
    folder = _uploads()
    cutoff = time.time() - KEEP_UPLOADS_SECONDS
    for old in folder.iterdir():
        if old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    path = folder / hashlib.sha256(data).hexdigest()
    path.write_bytes(data)


def _upload_of(run):
    """Return the stored file of RUN, or None when it is gone."""
    path = _uploads() / run.sha256
    return path.read_bytes() if path.exists() else None


def _page_or_partial(page, partial, status=200, **context):
    """Render PAGE, or only PARTIAL (which the page includes) for an HTMX request."""
    template = partial if request.headers.get("HX-Request") == "true" else page
    return render_template(template, **context), status


def _go_to_run(run):
    """Send the browser to the page of RUN (HX-Redirect for an HTMX request)."""
    target = url_for("admin.sync_run", run_id=run.id)
    if request.headers.get("HX-Request") == "true":
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


def _form_values(form=None):
    if form is None:
        # Most libraries have one source: offer the one used last.
        last = sync.recent_runs(1)
        return {"source": last[0].source if last else "", "deactivate_missing": False,
                "skip_invalid": False}
    return {
        "source": form.get("source", ""),
        "deactivate_missing": bool(form.get("deactivate_missing")),
        "skip_invalid": bool(form.get("skip_invalid")),
    }


@bp.route("/sync")
@permission_required("users.admin")
def sync_index():
    """Show the upload form and the list of synchronization runs."""
    return render_template("admin/sync.html", values=_form_values(), errors={},
                           runs=sync.recent_runs())


@bp.route("/sync", methods=["POST"])
@permission_required("users.admin")
def sync_upload():
    """Preview a source system's file: check it, compare it, record the run, show the preview."""
    values = _form_values(request.form)
    errors = {}
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        errors["file"] = "Choose the CSV or JSON file exported by the source system."
    if not values["source"].strip():
        errors["source"] = "Source system is required."
    if not errors:
        data = upload.read()
        try:
            run = sync.preview(data, filename=upload.filename, source=values["source"],
                               actor=current_actor(), deactivate_missing=values["deactivate_missing"],
                               skip_invalid=values["skip_invalid"],
                               max_bytes=current_app.config["SYNC_MAX_BYTES"])
        except ValidationError as exc:
            errors.update(exc.errors)
        else:
            if run.status == sync.PREVIEWED:
                _keep_upload(data)
            return _go_to_run(run)
    return _page_or_partial("admin/sync.html", "admin/_sync_form.html", 422, values=values,
                            errors=errors, runs=sync.recent_runs())


@bp.route("/sync/<int:run_id>")
@permission_required("users.admin")
def sync_run(run_id):
    """Show a run: its counts, rejected rows, local edits it overwrites and per-user changes."""
    run = sync.get_run(run_id)
    return _page_or_partial("admin/sync_run.html", "admin/_sync_run.html", run=run,
                            report=sync.report(run), problem=None)


@bp.route("/sync/<int:run_id>/apply", methods=["POST"])
@permission_required("users.admin")
def sync_apply(run_id):
    """Apply a previewed run exactly as previewed, or change nothing and say why."""
    run = sync.get_run(run_id)
    try:
        run = sync.apply(run.id, _upload_of(run), actor=current_actor(),
                         max_bytes=current_app.config["SYNC_MAX_BYTES"])
    except sync.SyncRefused as exc:
        run = sync.get_run(run_id)
        return _page_or_partial("admin/sync_run.html", "admin/_sync_run.html", 409, run=run,
                                report=sync.report(run), problem=str(exc))
    (_uploads() / run.sha256).unlink(missing_ok=True)
    return _go_to_run(run)


@bp.route("/sync/<int:run_id>/again", methods=["POST"])
@permission_required("users.admin")
def sync_again(run_id):
    """Preview the file of an earlier run again, against the records as they are now."""
    run = sync.get_run(run_id)
    data = _upload_of(run)
    if data is None:
        return _page_or_partial("admin/sync_run.html", "admin/_sync_run.html", 409, run=run,
                                report=sync.report(run),
                                problem="The file of this run is no longer here; upload it again.")
    options = sync.report(run)["options"]
    fresh = sync.preview(data, filename=run.filename, source=run.source, actor=current_actor(),
                         deactivate_missing=options.get("deactivate_missing", False),
                         skip_invalid=options.get("skip_invalid", False),
                         max_bytes=current_app.config["SYNC_MAX_BYTES"])
    return _go_to_run(fresh)
