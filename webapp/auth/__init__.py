"""Staff sign-in and sign-out, and the staff member's own account."""

from webapp.auth import account, routes
from webapp.auth.routes import bp

__all__ = ["account", "bp", "routes"]
