"""The Patron Services page."""

from webapp.desk import loans, routes
from webapp.desk.routes import bp

__all__ = ["bp", "loans", "routes"]
