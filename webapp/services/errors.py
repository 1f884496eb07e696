"""The errors a service raises for a route to turn into a response."""


class DomainError(Exception):
    """Base of the errors a service raises for a route to turn into a response."""


class Forbidden(DomainError):
    """The acting staff member may not do this (HTTP 403)."""


class NotFound(DomainError):
    """The thing asked for does not exist (HTTP 404)."""


class ValidationError(DomainError):
    """Input was refused; ``errors`` maps a field name to its message (HTTP 422)."""

    def __init__(self, errors):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


class EditConflict(DomainError):
    """The record changed since the form was loaded (HTTP 409)."""

    def __init__(self, user, submitted):
        super().__init__(f"user {user.id} is at version {user.version}")
        self.user = user
        self.submitted = submitted
