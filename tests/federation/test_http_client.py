"""SafeHttpClient against real aiohttp servers on 127.0.0.1: fetches, limits, errors, deliveries."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import UTC, datetime

import pytest
from aiohttp import web

from redfed.federation.http import (
    DeliveryResult,
    Gone,
    HttpError,
    IdMismatch,
    NotActivityPub,
    NotFound,
    SafeHttpClient,
    Timeout,
    TooLarge,
    TooManyRedirects,
    UnsafeUrl,
    parse_retry_after,
)
from redfed.federation.signatures import (
    make_request_signer,
    parse_signed_request,
    sign_request,
    verify_signed_request,
)

AS2 = "application/activity+json"


def note(url: str) -> dict[str, str]:
    return {"id": url, "type": "Note", "content": "hi"}


async def test_fetch_activitypub_happy_path(client: SafeHttpClient, remote) -> None:
    url = remote.url("/notes/1")
    remote.on_json("/notes/1", note(url))
    assert await client.fetch_activitypub(url) == note(url)
    method, path, headers, _ = remote.requests[0]
    assert (method, path) == ("GET", "/notes/1")
    assert headers["Accept"].startswith("application/activity+json, application/ld+json")
    assert headers["User-Agent"] == "redfed-test/1"


async def test_signed_fetch_verifies_on_the_remote(client, remote, rsa_keys) -> None:
    url = remote.url("/users/bob?page=1")
    seen = []

    async def handler(request: web.Request) -> web.StreamResponse:
        signed = parse_signed_request(
            "GET",
            request.raw_path.split("?")[0],
            request.query_string,
            request.headers,
            None,
            now=datetime.now(UTC),
            expected_host=f"127.0.0.1:{remote.port}",
        )
        verify_signed_request(signed, rsa_keys[1])
        seen.append(signed.key_id)
        return web.json_response(note(url), content_type=AS2)

    remote.on("/users/bob", handler)
    signer = make_request_signer("https://me.example/actor#main-key", rsa_keys[0])
    assert (await client.fetch_activitypub(url, signer=signer))["id"] == url
    assert seen == ["https://me.example/actor#main-key"]


@pytest.mark.parametrize("content_type", ["application/json", "text/html", "application/ld+json"])
async def test_ori03_non_activitypub_content_type(client, remote, content_type) -> None:
    url = remote.url("/x")
    remote.on_json("/x", note(url), content_type=content_type)
    with pytest.raises(NotActivityPub):
        await client.fetch_activitypub(url)


async def test_ld_json_with_the_activitystreams_profile_is_accepted(client, remote) -> None:
    url = remote.url("/x")

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(
            text=json.dumps(note(url)),
            headers={
                "Content-Type": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
            },
        )

    remote.on("/x", handler)
    assert (await client.fetch_activitypub(url))["id"] == url


async def test_flt11_html_error_page_with_200(client, remote) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html>oops</html>", content_type="text/html")

    remote.on("/users/a", handler)
    with pytest.raises(NotActivityPub):
        await client.fetch_activitypub(remote.url("/users/a"))


async def test_ori04_id_is_another_path_or_host(client, remote) -> None:
    remote.on_json("/x", note(remote.url("/y")))
    with pytest.raises(IdMismatch):
        await client.fetch_activitypub(remote.url("/x"))
    remote.on_json("/z", note(remote.url("/z", host="localhost")))
    with pytest.raises(IdMismatch):
        await client.fetch_activitypub(remote.url("/z"))


async def test_ori04_redirect_onto_another_host_is_rejected(client, remote, other_remote) -> None:
    target = other_remote.url("/x")
    other_remote.on_json("/x", note(target))
    remote.redirect("/x", target)
    with pytest.raises(IdMismatch):
        await client.fetch_activitypub(remote.url("/x"))


async def test_same_host_redirect_checks_id_against_final_url(client, remote) -> None:
    final = remote.url("/objects/1")
    remote.on_json("/objects/1", note(final))
    remote.redirect("/@alice/1", "/objects/1")
    assert (await client.fetch_activitypub(remote.url("/@alice/1")))["id"] == final


async def test_key_id_fetch_accepts_actor_document(client, remote) -> None:
    actor = remote.url("/users/a")
    remote.on_json("/users/a", {"id": actor, "type": "Person"})
    assert (await client.fetch_activitypub(actor + "#main-key"))["id"] == actor


@pytest.mark.parametrize(("status", "error"), [(404, NotFound), (410, Gone), (500, HttpError)])
async def test_error_statuses(client, remote, status, error) -> None:
    remote.on_json("/x", {"error": "no"}, status=status)
    with pytest.raises(error) as info:
        await client.fetch_activitypub(remote.url("/x"))
    if status == 500:
        assert info.value.remote_status == 500


async def test_res02_deeply_nested_json(client, remote) -> None:
    deep = '{"id":"x","a":' + "[" * 100_000 + "]" * 100_000 + "}"

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text=deep, content_type=AS2)

    remote.on("/deep", handler)
    with pytest.raises(NotActivityPub):
        await client.fetch_activitypub(remote.url("/deep"))


async def test_res07_gzip_bomb_counts_decompressed_bytes(remote) -> None:
    bomb = gzip.compress(b" " * 10_000_000)
    assert len(bomb) < 20_000

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=bomb, headers={"Content-Type": AS2, "Content-Encoding": "gzip"})

    remote.on("/bomb", handler)
    async with SafeHttpClient(
        allow_private_addresses=True, user_agent="t", max_json_bytes=1_000_000
    ) as client:
        with pytest.raises(TooLarge):
            await client.fetch_activitypub(remote.url("/bomb"))


async def test_med04_declared_huge_content_length(client, remote) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.content_length = 10 * 1024**3
        await response.prepare(request)
        await response.write(b"x" * 1024)
        return response

    remote.on("/huge.png", handler)
    with pytest.raises(TooLarge):
        await client.fetch_media(remote.url("/huge.png"), max_bytes=1_000_000)


async def test_med04_endless_chunked_body_is_cut_at_the_limit(client, remote) -> None:
    sent = []

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        await response.prepare(request)
        try:
            for _ in range(1000):  # would be 64 MB; the client hangs up long before
                await response.write(b"x" * 65_536)
                sent.append(1)
        except (ConnectionResetError, ConnectionError):
            pass
        return response

    remote.on("/endless.jpg", handler)
    with pytest.raises(TooLarge):
        await client.fetch_media(remote.url("/endless.jpg"), max_bytes=200_000)


async def test_fetch_media_returns_bytes_and_type(client, remote) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"\x89PNG....", content_type="image/png")

    remote.on("/a.png", handler)
    assert await client.fetch_media(remote.url("/a.png")) == (b"\x89PNG....", "image/png")


async def test_res08_trickling_remote_hits_the_total_deadline(remote) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": AS2})
        await response.prepare(request)
        try:
            for _ in range(100):
                await response.write(b" ")
                await asyncio.sleep(0.05)  # the slow peer itself, not a test wait
        except (ConnectionResetError, ConnectionError):
            pass
        return response

    remote.on("/slow", handler)
    async with SafeHttpClient(
        allow_private_addresses=True, user_agent="t", total_timeout=0.4
    ) as client:
        started = asyncio.get_running_loop().time()
        with pytest.raises(Timeout):
            await client.fetch_activitypub(remote.url("/slow"))
        assert asyncio.get_running_loop().time() - started < 2


async def test_ssrf04_redirects_are_rechecked_and_capped(client, remote) -> None:
    for location in [
        "file:///etc/passwd",
        "gopher://127.0.0.1/",
        "http://2130706433/",
        "https://user:pw@example.com/",
    ]:
        remote.redirect("/r", location)
        with pytest.raises(UnsafeUrl):
            await client.fetch_activitypub(remote.url("/r"))
    # /h0 -> /h1 -> /h2 -> /h3 is 3 redirects (allowed); from /h0 to /h4 is 4 (refused).
    for hop in range(4):
        remote.redirect(f"/h{hop}", f"/h{hop + 1}")
    remote.on_json("/h4", note(remote.url("/h4")))
    with pytest.raises(TooManyRedirects):
        await client.fetch_activitypub(remote.url("/h0"))
    assert (await client.fetch_activitypub(remote.url("/h1")))["id"] == remote.url("/h4")


async def test_post_activity_delivers_signed_body(client, remote, rsa_keys) -> None:
    url = remote.url("/inbox")
    remote.on_json("/inbox", {}, status=202)
    body = b'{"type":"Create"}'
    headers = sign_request(
        "POST", url, body=body, key_id="https://me/actor#k", private_key_pem=rsa_keys[0]
    )
    result = await client.post_activity(url, body, headers)
    assert result == DeliveryResult(status=202, retry_after=None, error=None)
    method, path, got_headers, got_body = remote.requests[0]
    assert (method, path, got_body) == ("POST", "/inbox", body)
    signed = parse_signed_request(
        "POST",
        "/inbox",
        "",
        got_headers,
        got_body,
        now=datetime.now(UTC),
        expected_host=f"127.0.0.1:{remote.port}",
    )
    verify_signed_request(signed, rsa_keys[1])


async def test_post_activity_reports_statuses_and_retry_after(client, remote) -> None:
    async def limited(request: web.Request) -> web.StreamResponse:
        return web.Response(status=429, headers={"Retry-After": "120"})

    async def unavailable(request: web.Request) -> web.StreamResponse:
        return web.Response(status=503, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"})

    remote.on("/limited", limited)
    remote.on("/down", unavailable)
    remote.on_json("/gone", {}, status=410)
    remote.redirect("/moved", "/inbox")
    limited_result = await client.post_activity(remote.url("/limited"), b"{}", {})
    assert (limited_result.status, limited_result.retry_after, limited_result.error) == (
        429,
        120.0,
        "http",
    )
    down = await client.post_activity(remote.url("/down"), b"{}", {})
    assert down.status == 503 and down.retry_after is not None and down.retry_after > 10**8
    assert (await client.post_activity(remote.url("/gone"), b"{}", {})).status == 410
    moved = await client.post_activity(remote.url("/moved"), b"{}", {})
    assert (moved.status, moved.error) == (302, "http")
    assert [r[1] for r in remote.requests] == ["/limited", "/down", "/gone", "/moved"]


async def test_post_activity_network_failures_never_raise(client, remote) -> None:
    closed_port_url = remote.url("/inbox")
    await remote.server.close()
    refused = await client.post_activity(closed_port_url, b"{}", {})
    assert (refused.status, refused.error) == (None, "connection")
    unsafe = await client.post_activity("file:///etc/passwd", b"{}", {})
    assert unsafe.error == "unsafe"


async def test_post_activity_timeout(remote) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(2)  # a stalled peer
        return web.Response(status=202)

    remote.on("/inbox", handler)
    async with SafeHttpClient(allow_private_addresses=True, user_agent="t", total_timeout=0.3) as c:
        result = await c.post_activity(remote.url("/inbox"), b"{}", {})
    assert (result.status, result.error) == (None, "timeout")


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30.0
    assert parse_retry_after("Wed, 01 Jan 2025 00:01:00 GMT", now) == 60.0
    assert parse_retry_after("Tue, 31 Dec 2024 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
