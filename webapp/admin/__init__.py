"""Administration: synchronization, staff and roles, libraries, settings and their changes."""

from webapp.admin import changes, libraries, routes, staff
from webapp.admin.routes import bp

__all__ = ["bp", "changes", "libraries", "routes", "staff"]
