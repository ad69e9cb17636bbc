"""Errors a domain raises and the HTTP layer maps to 4xx. Standard library only, so that a
domain package may import it and stay free of frameworks."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra


class InvalidInput(DomainError):
    """The input is well-formed but a rule refuses it (names the field at fault)."""

    status_code = 422


class NotFound(DomainError):
    """Absent, or not the caller's: both answer alike so ids cannot be probed."""

    status_code = 404


class Conflict(DomainError):
    """The object's current state forbids the change (e.g. a transition); nothing changed."""

    status_code = 409
