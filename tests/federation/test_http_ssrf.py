"""SSRF rows against the production setting (private addresses refused): nothing may connect.

The test server on 127.0.0.1 counts requests, so "refused" means it saw none. Hostnames are
answered by a fake DNS answer source; only loopback answers are used where a broken guard could
connect, so a failing test never sends traffic off this machine.
"""

from __future__ import annotations

import pytest

from redfed.federation.http import (
    ConnectionFailed,
    SafeHttpClient,
    SafeResolver,
    UnsafeAddress,
    UnsafeUrl,
)


@pytest.mark.parametrize("answer", ["127.0.0.1", "127.0.0.2", "0.0.0.0", "::ffff:127.0.0.1"])
async def test_ssrf01_host_resolving_to_loopback_is_refused_before_connecting(
    strict_client: SafeHttpClient, fake_dns, remote, answer: str
) -> None:
    fake_dns.answers["evil.test"] = [[answer]]
    with pytest.raises(UnsafeAddress):
        await strict_client.fetch_activitypub(f"http://evil.test:{remote.port}/users/a")
    with pytest.raises(UnsafeAddress):
        await strict_client.fetch_media(f"http://evil.test:{remote.port}/a.png")
    result = await strict_client.post_activity(f"http://evil.test:{remote.port}/inbox", b"{}", {})
    assert result.error == "unsafe"
    assert remote.requests == []
    assert fake_dns.lookups == ["evil.test"] * 3


@pytest.mark.parametrize(
    "ips",
    [
        ["10.0.0.1"],
        ["172.16.0.1"],
        ["192.168.1.1"],
        ["169.254.169.254"],
        ["100.64.0.1"],
        ["198.18.0.1"],
        ["240.0.0.1"],
        ["::1"],
        ["fc00::1"],
        ["64:ff9b::7f00:1"],
    ],
)
async def test_ssrf01_resolver_refuses_every_private_answer(make_dns, ips: list[str]) -> None:
    resolver = SafeResolver(make_dns({"evil.test": [ips]}), allow_private_addresses=False)
    with pytest.raises(UnsafeAddress):
        await resolver.resolve("evil.test", 443)


async def test_ssrf03_dns_rebinding_each_lookup_is_filtered(make_dns) -> None:
    dns = make_dns({"rebind.test": [["93.184.216.34"], ["127.0.0.1"]]})
    resolver = SafeResolver(dns, allow_private_addresses=False)
    first = await resolver.resolve("rebind.test", 443)
    assert [answer["host"] for answer in first] == ["93.184.216.34"]
    with pytest.raises(UnsafeAddress):
        await resolver.resolve("rebind.test", 443)


async def test_ssrf03_mixed_answer_keeps_only_public_addresses(make_dns) -> None:
    dns = make_dns({"mixed.test": [["127.0.0.1", "93.184.216.34", "10.1.1.1"]]})
    answers = await SafeResolver(dns, allow_private_addresses=False).resolve("mixed.test", 80)
    assert [answer["host"] for answer in answers] == ["93.184.216.34"]


async def test_ssrf03_the_connect_time_answer_is_the_one_checked(
    strict_client: SafeHttpClient, fake_dns, remote
) -> None:
    # No separate "validation" lookup exists that a first, public answer could satisfy: the one
    # lookup made is the connector's, and its private answer is refused.
    fake_dns.answers["rebind.test"] = [["127.0.0.1"]]
    with pytest.raises(UnsafeAddress):
        await strict_client.fetch_activitypub(f"http://rebind.test:{remote.port}/x")
    assert fake_dns.lookups == ["rebind.test"] and remote.requests == []


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "[::127.0.0.1]"])
async def test_ssrf02_and_sig12_ip_literals_are_refused(
    strict_client: SafeHttpClient, fake_dns, remote, host: str
) -> None:
    with pytest.raises(UnsafeAddress):
        await strict_client.fetch_activitypub(f"http://{host}:{remote.port}/k")
    assert remote.requests == [] and fake_dns.lookups == []


@pytest.mark.parametrize(
    "url_template",
    [
        "http://2130706433:{port}/",
        "http://0x7f.1:{port}/",
        "http://017700000001:{port}/",
        "http://127.1:{port}/",
        "http://user:pass@127.0.0.1:{port}/",
        "http://127.0.0.1%25lo:{port}/",
        "http://127.0.0.1:{port}/a\r\nX: y",
    ],
)
@pytest.mark.parametrize("allow_private", [True, False])
async def test_ssrf05_06_odd_urls_refused_in_both_modes(
    remote, url_template, allow_private
) -> None:
    async with SafeHttpClient(allow_private_addresses=allow_private, user_agent="t") as client:
        with pytest.raises(UnsafeUrl):
            await client.fetch_activitypub(url_template.format(port=remote.port))
    assert remote.requests == []


async def test_nxdomain_is_a_dns_failure(strict_client: SafeHttpClient, fake_dns) -> None:
    with pytest.raises(ConnectionFailed) as info:
        await strict_client.fetch_activitypub("http://nowhere.test/x")
    assert info.value.kind == "dns"
    result = await strict_client.post_activity("http://nowhere.test/inbox", b"{}", {})
    assert result.error == "dns"


async def test_ssrf08_proxy_environment_is_ignored(monkeypatch, remote, other_remote) -> None:
    proxy = other_remote.url("/")
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    remote.on_json("/x", {"id": remote.url("/x")})
    async with SafeHttpClient(allow_private_addresses=True, user_agent="t") as client:
        assert (await client.fetch_activitypub(remote.url("/x")))["id"] == remote.url("/x")
    assert other_remote.requests == [] and len(remote.requests) == 1
