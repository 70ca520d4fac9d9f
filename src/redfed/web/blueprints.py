"""The list of blueprints, in one place, so app.py need not know every resource."""

from __future__ import annotations

from quart import Blueprint

from redfed.web import health, inbox
from redfed.web.ui import account_blueprints
from redfed.web.ui.home import content_blueprints


def all_blueprints() -> list[Blueprint]:
    return [
        health.bp,
        inbox.bp,
        *account_blueprints(),
        *content_blueprints(),
    ]
