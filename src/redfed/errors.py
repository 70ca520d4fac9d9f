"""The one small error tree: every error carries an HTTP status and a public message.

The public message is safe to show to anyone; `detail` is for the log only (it may name
internal hosts, SQL or remote payloads).
"""

from __future__ import annotations


class RedfedError(Exception):
    status: int = 500
    public_message: str = "Something went wrong."

    def __init__(self, public_message: str | None = None, *, detail: str | None = None) -> None:
        if public_message is not None:
            self.public_message = public_message
        self.detail = detail or self.public_message
        super().__init__(self.detail)


class BadRequest(RedfedError):
    status = 400
    public_message = "The request is not valid."


class ValidationError(BadRequest):
    """Bad user input. `field` names the form field so the page can show the message beside it."""

    status = 422

    def __init__(self, public_message: str, *, field: str | None = None, detail: str | None = None):
        super().__init__(public_message, detail=detail)
        self.field = field


class Unauthorized(RedfedError):
    status = 401
    public_message = "Authentication required."


class Forbidden(RedfedError):
    status = 403
    public_message = "You are not allowed to do that."


class NotFound(RedfedError):
    # Also used for things that exist but the viewer may not see (PRIV-07): never leak existence.
    status = 404
    public_message = "Not found."


class Conflict(RedfedError):
    status = 409
    public_message = "That already exists."


class PayloadTooLarge(RedfedError):
    status = 413
    public_message = "The request body is too large."


class RateLimited(RedfedError):
    status = 429
    public_message = "Too many requests. Try again later."

    def __init__(self, public_message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(public_message)
        self.retry_after = retry_after


class ServiceUnavailable(RedfedError):
    status = 503
    public_message = "The service is temporarily unavailable."


class ConfigError(RedfedError):
    """A bad setting: start-up stops with one line naming the key."""

    status = 500
