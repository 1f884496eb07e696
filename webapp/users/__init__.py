"""User search, User Details and its Roles tab."""

from webapp.users import roles, routes, search
from webapp.users.routes import bp

__all__ = ["bp", "roles", "routes", "search"]
