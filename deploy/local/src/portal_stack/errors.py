"""Errors raised when infrastructure is missing or does not start."""

from __future__ import annotations


class InfraError(RuntimeError):
    """Infrastructure is missing, misconfigured or failed to start.

    The message always says what is missing and how to provide it.
    """
