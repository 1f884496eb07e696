"""User search and User Details."""

from webapp.users import routes, search
from webapp.users.routes import bp

__all__ = ["bp", "routes", "search"]
