"""Errors a domain raises and the HTTP layer maps to 4xx problems (`portal_runtime.problems`).
Standard library only, so that a domain package may import it and stay free of frameworks."""

from __future__ import annotations


class DomainError(Exception):
    """Answered as a problem: `status_code`; `message` as its `detail`; `field` (the input at
    fault) and `extra` (e.g. `current_status`) as members; `problem_kind` names its `type`
    (`https://portal.example/problems/<kind>`), by default the status's own (conflict, not-found,
    invalid-input, ...). `retry_after` (seconds), when set, says the same request may succeed
    that much later: the answer carries it as `Retry-After`."""

    status_code = 400
    problem_kind: str | None = None
    retry_after: int | None = None

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


class PreconditionFailed(DomainError):
    """The caller's `If-Match` names another revision than the current one; nothing changed."""

    status_code = 412


class Conflict(DomainError):
    """The object's current state forbids the change (e.g. a transition); nothing changed."""

    status_code = 409
