"""Administration: synchronization, staff and roles, settings."""

from webapp.admin import routes
from webapp.admin.routes import bp

__all__ = ["bp", "routes"]
