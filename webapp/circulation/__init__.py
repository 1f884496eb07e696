"""Circulation pages: Return items at the desk; Admin › Items and Admin › Loan policies."""

from webapp.circulation import admin, routes
from webapp.circulation.routes import bp

__all__ = ["admin", "bp", "routes"]
