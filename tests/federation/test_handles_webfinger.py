"""Handles in one canonical form (ORI-05) and WebFinger resolution against a real server."""

from __future__ import annotations

import pytest
from aiohttp import web

from redfed.federation.handles import Handle, InvalidHandle, normalize_host, parse_handle
from redfed.federation.webfinger_client import WebFingerError, resolve_handle, webfinger_url

AS2 = "application/activity+json"


@pytest.mark.parametrize(
    "text",
    [
        "@alice@example.com",
        "alice@example.com",
        "acct:alice@example.com",
        "@alice@EXAMPLE.com.",
        "alice@example.com:443",
        " @alice@Example.Com ",
    ],
)
def test_ori05_equivalent_handles_have_one_canonical_form(text: str) -> None:
    assert parse_handle(text) == Handle("alice", "example.com")


def test_unicode_and_punycode_hosts_are_the_same() -> None:
    assert parse_handle("bob@bücher.example") == parse_handle("bob@xn--bcher-kva.example")
    assert normalize_host("BÜCHER.example.") == "xn--bcher-kva.example"
    assert normalize_host("127.0.0.1:8080") == "127.0.0.1:8080"


@pytest.mark.parametrize(
    "text",
    [
        "alice@mastodon.so/cial",
        "alice@mastodon.social%2Fevil",
        "alice@evil@example.com",
        "alice@user:pw@example.com",
        "alice@exa mple.com",
        "alice@",
        "@alice",
        "alice",
        "al/ice@example.com",
        "alice@example.com:0443",
        "alice@example.com:99999",
        "alice@example..com",
        "alice@-example.com",
        "alice@[::1]",
        "alice@example.com#x",
        "alice@example.com\\evil",
        "a" * 500 + "@example.com",
    ],
)
def test_ori05_smuggling_handles_are_refused(text: str) -> None:
    with pytest.raises(InvalidHandle):
        parse_handle(text)


def test_handle_forms() -> None:
    handle = parse_handle("@Alice@example.com")
    assert (str(handle), handle.acct, handle.resource) == (
        "@Alice@example.com",
        "Alice@example.com",
        "acct:Alice@example.com",
    )
    assert handle.same_as(parse_handle("alice@EXAMPLE.com"))
    assert webfinger_url(handle) == (
        "https://example.com/.well-known/webfinger?resource=acct%3AAlice%40example.com"
    )


def _jrd(subject: str, href: str, link_type: str = AS2) -> dict[str, object]:
    return {
        "subject": subject,
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": href},
            {"rel": "self", "type": link_type, "href": href},
        ],
    }


def _serve_webfinger(remote, answers: dict[str, dict[str, object]]) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        answer = answers.get(request.query.get("resource", ""))
        if answer is None:
            return web.Response(status=404)
        return web.json_response(answer, content_type="application/jrd+json")

    remote.on("/.well-known/webfinger", handler)


async def test_resolve_handle(client, remote) -> None:
    host = f"127.0.0.1:{remote.port}"
    actor = remote.url("/users/alice")
    _serve_webfinger(remote, {f"acct:alice@{host}": _jrd(f"acct:Alice@{host}", actor)})
    assert await resolve_handle(client, f"@alice@{host}", scheme="http") == actor
    assert remote.requests[0][1].startswith("/.well-known/webfinger?resource=acct")
    assert remote.requests[0][1].endswith(f"alice%40127.0.0.1%3A{remote.port}") or remote.requests[
        0
    ][1].endswith(f"alice@127.0.0.1:{remote.port}")


async def test_ld_json_self_link_is_accepted(client, remote) -> None:
    host = f"127.0.0.1:{remote.port}"
    actor = remote.url("/users/alice")
    link_type = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
    _serve_webfinger(remote, {f"acct:alice@{host}": _jrd(f"acct:alice@{host}", actor, link_type)})
    assert await resolve_handle(client, f"alice@{host}", scheme="http") == actor


async def test_subject_for_another_user_is_refused(client, remote) -> None:
    host = f"127.0.0.1:{remote.port}"
    _serve_webfinger(
        remote, {f"acct:alice@{host}": _jrd(f"acct:mallory@{host}", remote.url("/u/m"))}
    )
    with pytest.raises(WebFingerError):
        await resolve_handle(client, f"alice@{host}", scheme="http")


async def test_no_activitypub_self_link(client, remote) -> None:
    host = f"127.0.0.1:{remote.port}"
    _serve_webfinger(
        remote, {f"acct:alice@{host}": _jrd(f"acct:alice@{host}", remote.url("/u/a"), "text/html")}
    )
    with pytest.raises(WebFingerError):
        await resolve_handle(client, f"alice@{host}", scheme="http")


async def test_ori05_subject_on_another_domain_needs_that_domains_confirmation(
    client, remote, other_remote
) -> None:
    # Given a handle on one domain whose WebFinger names a subject on another domain
    asked, other = f"127.0.0.1:{remote.port}", f"127.0.0.1:{other_remote.port}"
    actor = other_remote.url("/users/victim")
    _serve_webfinger(remote, {f"acct:alice@{asked}": _jrd(f"acct:victim@{other}", actor)})
    # When the other domain does not know that subject, Then the handle is refused
    _serve_webfinger(other_remote, {})
    with pytest.raises(WebFingerError):
        await resolve_handle(client, f"alice@{asked}", scheme="http")
    # When it answers with another actor, Then it is refused too
    _serve_webfinger(
        other_remote, {f"acct:victim@{other}": _jrd(f"acct:victim@{other}", other_remote.url("/x"))}
    )
    with pytest.raises(WebFingerError):
        await resolve_handle(client, f"alice@{asked}", scheme="http")
    # When it confirms the subject and the actor (a split-domain setup), Then it resolves
    _serve_webfinger(other_remote, {f"acct:victim@{other}": _jrd(f"acct:victim@{other}", actor)})
    assert await resolve_handle(client, f"alice@{asked}", scheme="http") == actor


async def test_webfinger_errors_are_fetch_errors(client, remote) -> None:
    host = f"127.0.0.1:{remote.port}"
    _serve_webfinger(remote, {})
    from redfed.federation.http import NotFound

    with pytest.raises(NotFound):
        await resolve_handle(client, f"nobody@{host}", scheme="http")
