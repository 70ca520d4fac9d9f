"""Map RedfedError (and Quart's HTTP errors) to JSON for API clients, HTML for people."""

from __future__ import annotations

import logging

from quart import Quart, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from redfed.errors import RateLimited, RedfedError

log = logging.getLogger(__name__)


def wants_json() -> bool:
    accept = request.accept_mimetypes
    if request.path.startswith(("/api/", "/.well-known/", "/translate", "/languages", "/detect")):
        return True
    best = accept.best_match(["text/html", "application/json", "application/activity+json"])
    return best not in (None, "text/html")


async def error_response(status: int, message: str) -> Response:
    if wants_json():
        response = jsonify({"error": message})
    else:
        try:
            html = await render_template("error.html", status=status, message=message)
        except Exception:  # templates may not exist (e.g. a broken install): plain text
            html = f"<!doctype html><title>{status}</title><p>{status}</p>"
        response = Response(html, content_type="text/html; charset=utf-8")
    response.status_code = status
    return response


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(RedfedError)
    async def redfed_error(exc: RedfedError) -> Response:
        if exc.status >= 500:
            log.error("request.error path=%s detail=%s", request.path, exc.detail)
        response = await error_response(exc.status, exc.public_message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(RequestEntityTooLarge)
    async def too_large(exc: RequestEntityTooLarge) -> Response:
        return await error_response(413, "The request body is too large.")

    @app.errorhandler(HTTPException)
    async def http_error(exc: HTTPException) -> Response:
        return await error_response(exc.code or 500, exc.description or exc.name)
