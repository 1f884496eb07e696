"""The one clock every service reads (kept in webapp.clock so model defaults read it too)."""

from webapp.clock import now, today

__all__ = ["now", "today"]
