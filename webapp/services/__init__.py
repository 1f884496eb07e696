"""The domain: plain functions that know nothing of Flask or the request."""

from webapp.services.errors import DomainError, EditConflict, Forbidden, NotFound, ValidationError

__all__ = ["DomainError", "EditConflict", "Forbidden", "NotFound", "ValidationError"]
