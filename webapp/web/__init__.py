"""What every blueprint shares: htmx answers, edit-form helpers, security, errors, templates."""

from webapp.web import errors, ids, inputs, security, templating
from webapp.web.forms import (
    conflict_rows,
    form_version,
    loaded_values,
    own_edits,
    posted_segment,
    segment_values,
)
from webapp.web.htmx import hx_headers, render, wants_fragment
from webapp.web.security import current_actor, permission_required, public_route


def init_app(app):
    """Install the id converter, session and security headers, error handlers, globals, input check."""
    ids.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    inputs.init_app(app)


__all__ = [
    "conflict_rows",
    "current_actor",
    "form_version",
    "hx_headers",
    "init_app",
    "loaded_values",
    "own_edits",
    "permission_required",
    "posted_segment",
    "public_route",
    "render",
    "segment_values",
    "wants_fragment",
]
