"""The Patron Services page."""

from webapp.desk import routes
from webapp.desk.routes import bp

__all__ = ["bp", "routes"]
