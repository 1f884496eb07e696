"""Staff sign-in and sign-out."""

from webapp.auth import routes
from webapp.auth.routes import bp

__all__ = ["bp", "routes"]
