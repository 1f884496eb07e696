"""Administration pages: libraries, and synchronization of external accounts."""

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from webapp.admin.forms import blank_upload, parse_sign_in_filter, parse_upload
from webapp.services import ValidationError, signins, sync
from webapp.services.libraries import list_libraries
from webapp.web import current_actor, hx_headers, permission_required, render, wants_fragment

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/")
@permission_required("system.admin")
def index():
    """Show the libraries and what an administrator can do."""
    return render_template("admin/index.html", libraries=list_libraries())


@bp.route("/sign-ins")
@permission_required("users.admin")
def sign_ins():
    """List recent sign-in attempts with their outcome and reason, filtered."""
    wanted = parse_sign_in_filter(request.args)
    return render("admin/sign_ins.html", "admin/_sign_ins.html",
                  attempts=signins.recent_sign_ins(wanted), wanted=wanted,
                  outcomes=signins.OUTCOMES, reasons=signins.REASONS, limit=signins.PAGE_SIZE)


# ---------------------------------------------------------------- synchronization


def _run_page(run, status=200, problem=None):
    """Render the page of RUN (or its partial), with PROBLEM explaining a refusal."""
    return render("admin/sync_run.html", "admin/_sync_run.html", status, run=run,
                            report=sync.report(run), problem=problem)


def _go_to_run(run):
    """Send the browser to the page of RUN (HX-Redirect for an HTMX request)."""
    target = url_for("admin.sync_run", run_id=run.id)
    if wants_fragment():
        return hx_headers(("", 204), redirect=target)
    return redirect(target, code=303)


@bp.route("/sync")
@permission_required("users.admin")
def sync_index():
    """Show the upload form and the list of synchronization runs."""
    runs = sync.recent_runs()
    return render_template("admin/sync.html", values=blank_upload(runs[0].source if runs else "").values,
                           errors={}, runs=runs)


@bp.route("/sync", methods=["POST"])
@permission_required("users.admin")
def sync_upload():
    """Preview a source system's file: check it, compare it, record the run, show the preview."""
    upload = parse_upload(request.form, request.files)
    if not upload.errors:
        try:
            run = sync.preview_upload(
                current_app.instance_path, upload.data, filename=upload.filename, source=upload.source,
                actor=current_actor(), deactivate_missing=upload.deactivate_missing,
                skip_invalid=upload.skip_invalid, max_bytes=current_app.config["SYNC_MAX_BYTES"])
        except ValidationError as exc:
            upload.errors.update(exc.errors)
        else:
            return _go_to_run(run)
    return render("admin/sync.html", "admin/_sync_form.html", 422, values=upload.values,
                            errors=upload.errors, runs=sync.recent_runs())


@bp.route("/sync/<int:run_id>")
@permission_required("users.admin")
def sync_run(run_id):
    """Show a run: its counts, rejected rows, local edits it overwrites and per-user changes."""
    return _run_page(sync.get_run(run_id))


@bp.route("/sync/<int:run_id>/apply", methods=["POST"])
@permission_required("users.admin")
def sync_apply(run_id):
    """Apply a previewed run exactly as previewed, or change nothing and say why."""
    try:
        run = sync.apply_upload(current_app.instance_path, run_id, actor=current_actor(),
                                max_bytes=current_app.config["SYNC_MAX_BYTES"])
    except sync.SyncRefused as exc:
        return _run_page(sync.get_run(run_id), 409, str(exc))
    return _go_to_run(run)


@bp.route("/sync/<int:run_id>/again", methods=["POST"])
@permission_required("users.admin")
def sync_again(run_id):
    """Preview the file of an earlier run again, against the records as they are now."""
    try:
        fresh = sync.preview_again(current_app.instance_path, run_id, actor=current_actor(),
                                   max_bytes=current_app.config["SYNC_MAX_BYTES"])
    except sync.SyncRefused as exc:
        return _run_page(sync.get_run(run_id), 409, str(exc))
    return _go_to_run(fresh)
