"""Machine-facing HTTP APIs: the LibreTranslate-compatible endpoints and the Mastodon-compatible
client API (translation for now; OAuth later). JSON in and out; errors as `{"error": "..."}`.
"""

from __future__ import annotations

from quart import Blueprint


def api_blueprints() -> list[Blueprint]:
    """The API blueprints, for web/blueprints.py."""
    from redfed.web.api import libretranslate, translate_status

    return [libretranslate.bp, translate_status.bp]
