"""Which URLs and IP addresses an outgoing request may go to (SSRF-01/02/05/06).

Stricter than `ipaddress.is_global`: on 3.11.7 that says True for `::127.0.0.1`, `64:ff9b::7f00:1`,
`64:ff9b:1::1`, `3fff::1`, `2002:7f00:1::` and `192.0.0.8`, so we allow-list instead.
"""

from __future__ import annotations

import ipaddress
import re
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from yarl import URL

from redfed.errors import RedfedError


class FetchError(RedfedError):
    """Base of every failure of an outgoing request (see `redfed.federation.http`)."""

    status = 502
    public_message = "The remote server could not be fetched."


class UnsafeUrl(FetchError):
    """A URL we refuse to request: scheme, userinfo, zone id, control characters, odd host."""

    status = 400
    public_message = "That address cannot be fetched."


class UnsafeAddress(UnsafeUrl):
    """The host is, or resolves only to, a non-public address."""


# IPv4 ranges that are never a federated peer, whatever `is_global` says (RFC 6890 and friends).
_BLOCKED_V4 = tuple(
    IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
# Only global unicast (2000::/3) is ever public; these parts of it are not.
_GLOBAL_UNICAST_V6 = IPv6Network("2000::/3")
_BLOCKED_V6 = tuple(
    IPv6Network(n)
    for n in (
        "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID...
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
    )
)
_NAT64 = IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix: embeds an IPv4 address
_SIX_TO_FOUR = IPv6Network("2002::/16")  # 6to4: embeds an IPv4 address in bits 16..48
_COMPATIBLE = IPv6Network("::/96")  # deprecated IPv4-compatible form, e.g. ::127.0.0.1


def is_public_address(ip: str | IPv4Address | IPv6Address) -> bool:
    """True only for a unicast address on the public Internet; False for anything unparsable."""
    if isinstance(ip, str):
        try:
            ip = ipaddress.ip_address(ip)
        except ValueError:
            return False
    if isinstance(ip, IPv4Address):
        return _is_public_v4(ip)
    if ip.scope_id:
        return False  # zone ids only exist on link-local addresses
    embedded = _embedded_v4(ip)
    if embedded is not None:
        return _is_public_v4(embedded)
    if ip in _COMPATIBLE or ip not in _GLOBAL_UNICAST_V6:
        return False
    return ip.is_global and not any(ip in net for net in _BLOCKED_V6)


def _is_public_v4(ip: IPv4Address) -> bool:
    return ip.is_global and not any(ip in net for net in _BLOCKED_V4)


def _embedded_v4(ip: IPv6Address) -> IPv4Address | None:
    """The IPv4 address carried by a mapped, compatible, NAT64 or 6to4 IPv6 address."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _SIX_TO_FOUR:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _COMPATIBLE and int(ip) > 1):
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


_CANONICAL_V4 = re.compile(
    r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$"
)
# A last label that is all digits or hex: inet_aton would read `127.1`, `0x7f.1`, `2130706433`
# or `017700000001` as an IPv4 address, so these never reach DNS (SSRF-05).
_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$")
_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")
_MAX_URL = 4096


def check_url(url: str, *, allow_private_addresses: bool) -> URL:
    """Parse an http(s) URL we may request, or raise UnsafeUrl; the fragment is dropped.

    With `allow_private_addresses` (tests, dev) only the address check is skipped.
    """
    if not isinstance(url, str) or len(url) > _MAX_URL:
        raise UnsafeUrl(detail="URL missing or too long")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        raise UnsafeUrl(detail="control character or space in URL")
    try:
        parsed = URL(url)
    except (ValueError, TypeError) as exc:
        raise UnsafeUrl(detail="unparsable URL") from exc
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrl(detail=f"scheme {parsed.scheme[:16]!r} refused")
    authority = parsed.raw_authority
    if "@" in authority or "%" in authority:
        raise UnsafeUrl(detail="userinfo or percent-encoding (zone id) in the authority")
    host = (parsed.raw_host or "").lower()
    if not host:
        raise UnsafeUrl(detail="URL without a host")
    _check_host(host, allow_private_addresses)
    return parsed.with_fragment(None)


def _check_host(host: str, allow_private: bool) -> None:
    if ":" in host or _CANONICAL_V4.match(host):
        try:
            address = ipaddress.ip_address(host)
        except ValueError as exc:
            raise UnsafeUrl(detail="malformed IP literal") from exc
        if not allow_private and not is_public_address(address):
            raise UnsafeAddress(detail=f"non-public address {host}")
        return
    name = host[:-1] if host.endswith(".") else host
    if not _HOSTNAME.match(name) or _NUMERIC_LABEL.match(name.rsplit(".", 1)[-1]):
        raise UnsafeUrl(detail=f"host {host[:64]!r} refused")
