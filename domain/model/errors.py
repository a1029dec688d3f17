"""Typed business failures. The HTTP layer maps each ``code`` to a problem+json type."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused; nothing was changed."""

    code = "domain-error"
    status = 422
    # seconds after which the same request may succeed (the refusal is transient); the
    # API sends it as Retry-After
    retry_after_s: int | None = None


class InvalidValue(DomainError):
    """A value object or command field is out of its allowed range or shape."""

    code = "invalid-value"


class InvalidTransition(DomainError):
    """The aggregate's current state does not allow this command."""

    code = "invalid-transition"
    status = 409


class NotFound(DomainError):
    code = "not-found"
    status = 404
