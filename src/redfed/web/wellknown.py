"""Discovery: WebFinger (acct: and actor URLs), host-meta (XML and JSON) and NodeInfo 2.0/2.1."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from xml.sax.saxutils import escape

from quart import Blueprint, Response, current_app, jsonify, request

from redfed import __version__
from redfed.activitypub import uris
from redfed.activitypub.vocab import (
    AP_CONTENT_TYPE,
    JRD_CONTENT_TYPE,
    NODEINFO_20_REL,
    NODEINFO_21_REL,
    PROFILE_PAGE_REL,
    XRD_CONTENT_TYPE,
)
from redfed.errors import BadRequest, NotFound
from redfed.models import Account, Note, User
from redfed.runtime import Runtime
from redfed.services.delivery import ensure_instance_actor
from redfed.services.jobs import utcnow

bp = Blueprint("wellknown", __name__)


def _runtime() -> Runtime:
    runtime: Runtime = current_app.config["REDFED_RUNTIME"]
    return runtime


def _cors(response: Response) -> Response:
    # Browser-based clients and other servers' front-ends look accounts up cross-origin.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


async def _account_for(resource: str, rt: Runtime) -> Account:
    domain, base = rt.settings.instance.domain, rt.base_url
    name: str | None = None
    if resource.startswith("acct:"):
        user, _, host = resource[5:].lstrip("@").rpartition("@")
        if host.lower() != domain:
            raise NotFound(detail=f"webfinger: foreign domain {host[:100]}")
        name = user.lower()
        if name == domain:  # Mastodon's spelling of the instance actor: acct:domain@domain
            return await ensure_instance_actor(rt.settings)
    elif resource in (uris.instance_actor_uri(base), f"{base}/about"):
        return await ensure_instance_actor(rt.settings)
    else:
        for prefix in (f"{base}/users/", f"{base}/@"):
            if resource.startswith(prefix) and "/" not in resource[len(prefix) :]:
                name = resource[len(prefix) :].lower()
    if not name:
        raise NotFound(detail="webfinger: resource not ours")
    account = await Account.get_or_none(username=name, domain=None)
    if account is None or account.suspended_at or account.gone_at:
        raise NotFound(detail="webfinger: no such account")
    return account


@bp.get("/.well-known/webfinger")
async def webfinger() -> Response:
    rt = _runtime()
    resource = request.args.get("resource", "").strip()
    if not resource:
        raise BadRequest("The resource parameter is required.")
    account = await _account_for(resource, rt)
    profile = account.url or uris.profile_url(rt.base_url, account.username)
    jrd = {
        "subject": f"acct:{account.username}@{rt.settings.instance.domain}",
        "aliases": [account.uri, profile],
        "links": [
            {"rel": "self", "type": AP_CONTENT_TYPE, "href": account.uri},
            {"rel": PROFILE_PAGE_REL, "type": "text/html", "href": profile},
        ],
    }
    response = jsonify(jrd)
    response.content_type = JRD_CONTENT_TYPE
    return _cors(response)


@bp.get("/.well-known/host-meta")
async def host_meta() -> Response:
    template = escape(
        f"{_runtime().base_url}/.well-known/webfinger?resource={{uri}}", {'"': "&quot;"}
    )
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{template}"/>\n</XRD>\n'
    )
    return _cors(Response(xml, content_type=XRD_CONTENT_TYPE))


@bp.get("/.well-known/host-meta.json")
async def host_meta_json() -> Response:
    template = f"{_runtime().base_url}/.well-known/webfinger?resource={{uri}}"
    response = jsonify({"links": [{"rel": "lrdd", "template": template}]})
    response.content_type = JRD_CONTENT_TYPE
    return _cors(response)


@bp.get("/.well-known/nodeinfo")
async def nodeinfo_index() -> Response:
    base = _runtime().base_url
    return _cors(
        jsonify(
            {
                "links": [
                    {"rel": NODEINFO_20_REL, "href": f"{base}/nodeinfo/2.0"},
                    {"rel": NODEINFO_21_REL, "href": f"{base}/nodeinfo/2.1"},
                ]
            }
        )
    )


async def _usage() -> dict[str, Any]:
    now = utcnow()
    users = User.filter(disabled=False, approved=True, account__gone_at__isnull=True)
    return {
        "users": {
            "total": await users.count(),
            "activeMonth": await users.filter(last_login_at__gte=now - timedelta(days=30)).count(),
            "activeHalfyear": await users.filter(
                last_login_at__gte=now - timedelta(days=180)
            ).count(),
        },
        "localPosts": await Note.filter(local=True, in_reply_to_id__isnull=True).count(),
        "localComments": await Note.filter(local=True, in_reply_to_id__isnull=False).count(),
    }


async def _nodeinfo(version: str) -> Response:
    settings = _runtime().settings
    software: dict[str, Any] = {"name": "redfed", "version": __version__}
    if version == "2.1":
        software["homepage"] = f"{settings.base_url}/about"
    doc = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": settings.registration.mode == "open",
        "usage": await _usage(),
        "metadata": {
            "nodeName": settings.instance.name,
            "nodeDescription": settings.instance.description,
        },
    }
    response = jsonify(doc)
    response.content_type = (
        f'application/json; profile="http://nodeinfo.diaspora.software/ns/schema/{version}#"'
    )
    return _cors(response)


@bp.get("/nodeinfo/2.0")
async def nodeinfo_20() -> Response:
    return await _nodeinfo("2.0")


@bp.get("/nodeinfo/2.1")
async def nodeinfo_21() -> Response:
    return await _nodeinfo("2.1")
