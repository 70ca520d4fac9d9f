"""The list of blueprints, in one place, so app.py need not know every resource."""

from __future__ import annotations

from quart import Blueprint

from redfed.web import activitypub, health, inbox, wellknown
from redfed.web.api import api_blueprints
from redfed.web.ui import account_blueprints, admin_domains, admin_federation
from redfed.web.ui.feed import feed_blueprints
from redfed.web.ui.home import content_blueprints
from redfed.web.ui.translate import translation_ui_blueprints


def all_blueprints() -> list[Blueprint]:
    return [
        health.bp,
        wellknown.bp,
        activitypub.bp,
        inbox.bp,
        *account_blueprints(),
        *content_blueprints(),
        *api_blueprints(),
        *translation_ui_blueprints(),
        admin_domains.bp,
        admin_federation.bp,
        *feed_blueprints(),
    ]
