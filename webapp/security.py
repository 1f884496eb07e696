"""Old import path of webapp.web.security, kept while the admin blueprint still uses it."""

from webapp.web.security import current_actor, permission_required

__all__ = ["current_actor", "permission_required"]
