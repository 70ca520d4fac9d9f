"""Liveness for load balancers and `make run` checks."""

from __future__ import annotations

from quart import Blueprint

from redfed import __version__

bp = Blueprint("health", __name__)


@bp.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok", "version": __version__}
