"""Admin › Libraries and Admin › Settings: the libraries, the main one, the semester ends."""

from flask import flash, redirect, request, url_for

from webapp.admin.routes import bp
from webapp.services import NotFound, ValidationError
from webapp.services import libraries as library_service
from webapp.services import settings as setting_service
from webapp.web import current_actor, permission_required, render, wants_fragment


def _libraries_page(status=200, errors=None, values=None, editing=None):
    """Render Admin › Libraries (the list alone for an htmx request)."""
    return render("admin/libraries.html", "admin/_libraries.html", status,
                  libraries=library_service.list_libraries(), errors=errors or {},
                  values=values or {}, editing=editing)


def _changed(message):
    flash(message, "success")
    if wants_fragment():
        return _libraries_page()
    return redirect(url_for("admin.libraries"), code=303)


@bp.route("/libraries")
@permission_required("system.admin")
def libraries():
    """List the libraries, with forms to add, rename, choose the main one and delete."""
    return _libraries_page()


@bp.route("/libraries", methods=["POST"])
@permission_required("system.admin")
def library_add():
    """Add a library."""
    values = {"code": request.form.get("code", ""), "name": request.form.get("name", "")}
    try:
        library = library_service.add_library(values["code"], values["name"], actor=current_actor())
    except ValidationError as exc:
        return _libraries_page(422, exc.errors, values)
    return _changed(f"{library.name} added.")


@bp.route("/libraries/<int:library_id>/rename", methods=["POST"])
@permission_required("system.admin")
def library_rename(library_id):
    """Give a library a new name."""
    name = request.form.get("name", "")
    try:
        library = library_service.rename_library(library_id, name, actor=current_actor())
    except ValidationError as exc:
        errors = {f"name-{library_id}": exc.errors.get("name", str(exc))}
        return _libraries_page(422, errors, {f"name-{library_id}": name}, editing=library_id)
    return _changed(f"Renamed to {library.name}.")


@bp.route("/libraries/<int:library_id>/main", methods=["POST"])
@permission_required("system.admin")
def library_main(library_id):
    """Make a library the main library."""
    library = library_service.set_main_library(library_id, actor=current_actor())
    return _changed(f"{library.name} is the main library now.")


@bp.route("/libraries/<int:library_id>/delete", methods=["POST"])
@permission_required("system.admin")
def library_delete(library_id):
    """Delete a library nobody uses; otherwise say where it is used."""
    try:
        library = library_service.delete_library(library_id, actor=current_actor())
    except ValidationError as exc:
        return _libraries_page(422, {"library": exc.errors["library"]})
    except NotFound:
        return _libraries_page(404, {"library": "That library does not exist any more."})
    return _changed(f"{library.name} deleted.")


@bp.route("/settings", methods=["GET", "POST"])
@permission_required("system.admin")
def settings():
    """Show and store the semester end dates, on which student workers' roles end."""
    errors, status = {}, 200
    if request.method == "POST":
        texts = [request.form.get(f"end{n}", "") for n in range(3)]
        try:
            setting_service.set_semester_ends(texts, actor=current_actor())
        except ValidationError as exc:
            errors, status = exc.errors, 422
            values = texts
        else:
            flash("Semester end dates saved.", "success")
            return redirect(url_for("admin.settings"), code=303)
    if not errors:
        values = [f"{m:02d}-{d:02d}" for m, d in setting_service.semester_ends()]
    values = (values + ["", "", ""])[:3]
    return render("admin/settings.html", "admin/_settings_form.html", status, values=values,
                  errors=errors)
