"""Administration: synchronization, staff and roles, libraries and settings."""

from webapp.admin import libraries, routes, staff
from webapp.admin.routes import bp

__all__ = ["bp", "libraries", "routes", "staff"]
