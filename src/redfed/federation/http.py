"""SafeHttpClient: the one home of aiohttp, used for every request to another server.

It refuses private addresses (checking the address actually connected to, SSRF-01..08), follows
at most 3 redirects re-checking each hop, caps bodies by decompressed size and bounds total time.
What an answer means (errors, content type, `id` check, Retry-After) is in responses.py.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from redfed.federation.addresses import (
    FetchError,
    UnsafeAddress,
    UnsafeUrl,
    check_url,
    is_public_address,
)
from redfed.federation.responses import (
    ACCEPT_ACTIVITYPUB,
    ACCEPT_JRD,
    ConnectionFailed,
    DeliveryResult,
    ErrorKind,
    Gone,
    HttpError,
    IdMismatch,
    NotActivityPub,
    NotFound,
    Timeout,
    TooLarge,
    TooManyRedirects,
    check_document_id,
    is_activitypub_content_type,
    parse_content_type,
    parse_json_document,
    parse_retry_after,
)
from redfed.federation.signatures import RequestSigner

logger = logging.getLogger(__name__)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DRAIN_BYTES = 65_536

__all__ = [
    "ConnectionFailed",
    "ErrorKind",
    "is_activitypub_content_type",
    "parse_json_document",
    "parse_retry_after",
    "DeliveryResult",
    "FetchError",
    "Gone",
    "HttpError",
    "IdMismatch",
    "NotActivityPub",
    "NotFound",
    "SafeHttpClient",
    "SafeResolver",
    "Timeout",
    "TooLarge",
    "TooManyRedirects",
    "UnsafeAddress",
    "UnsafeUrl",
]


class SafeResolver(AbstractResolver):
    """Filters every DNS answer through `is_public_address`, so the address connected to is the
    one checked (DNS rebinding, SSRF-03). `backend` is the answer source (a seam for tests)."""

    def __init__(self, backend: AbstractResolver, *, allow_private_addresses: bool) -> None:
        self._backend = backend
        self._allow_private = allow_private_addresses

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self._backend.resolve(host, port, family)
        if self._allow_private:
            return answers
        public = [answer for answer in answers if is_public_address(answer["host"])]
        if not public:
            logger.warning("http.refused host=%s reason=non-public-dns-answer", host)
            raise UnsafeAddress(detail=f"{host} resolves only to non-public addresses")
        return public

    async def close(self) -> None:
        await self._backend.close()


class SafeHttpClient:
    """Outgoing HTTP for federation. Use as `async with SafeHttpClient(...) as client:`."""

    def __init__(
        self,
        *,
        allow_private_addresses: bool,
        user_agent: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        total_timeout: float = 30.0,
        max_json_bytes: int = 1_000_000,
        max_media_bytes: int = 40_000_000,
        max_redirects: int = 3,
        dns_backend: AbstractResolver | None = None,
    ) -> None:
        self.allow_private_addresses = allow_private_addresses
        self.user_agent = user_agent
        self.total_timeout = total_timeout
        self.max_json_bytes = max_json_bytes
        self.max_media_bytes = max_media_bytes
        self.max_redirects = max_redirects
        self._timeout = aiohttp.ClientTimeout(
            total=total_timeout, sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._dns_backend = dns_backend
        # The system CA store; OpenSSL honours SSL_CERT_FILE / SSL_CERT_DIR here.
        self._ssl = ssl.create_default_context()
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SafeHttpClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            resolver = SafeResolver(
                self._dns_backend or aiohttp.ThreadedResolver(),
                allow_private_addresses=self.allow_private_addresses,
            )
            connector = aiohttp.TCPConnector(resolver=resolver, ssl=self._ssl, limit=100)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                trust_env=False,  # never a proxy from HTTP_PROXY (SSRF-08)
                headers={"User-Agent": self.user_agent},
            )
        return self._session

    # ------------------------------------------------------------ public calls

    async def fetch_activitypub(
        self, url: str, *, signer: RequestSigner | None = None
    ) -> dict[str, Any]:
        """GET an AS2 document whose `id` is the URL it was served from (ORI-03/04)."""
        requested = check_url(url, allow_private_addresses=self.allow_private_addresses)
        with self._errors(), _deadline_guard():
            async with asyncio.timeout(self.total_timeout):
                async with self._open(
                    "GET", url, {"Accept": ACCEPT_ACTIVITYPUB}, signer=signer
                ) as (response, final):
                    _raise_for_status(response)
                    if not is_activitypub_content_type(response.headers.get("Content-Type", "")):
                        raise NotActivityPub(detail=f"content type {response.content_type!r}")
                    raw = await _read_capped(response, self.max_json_bytes)
        document = parse_json_document(raw)
        check_document_id(document, url, requested, final)
        return document

    async def fetch_jrd(self, url: str) -> dict[str, Any]:
        """GET a WebFinger JRD (JSON); no AS2 content-type or id checks apply."""
        with self._errors(), _deadline_guard():
            async with asyncio.timeout(self.total_timeout):
                async with self._open("GET", url, {"Accept": ACCEPT_JRD}) as (response, _):
                    _raise_for_status(response)
                    mime, _params = parse_content_type(response.headers.get("Content-Type", ""))
                    if mime not in ("application/jrd+json", "application/json"):
                        raise NotActivityPub(detail=f"WebFinger content type {mime!r}")
                    raw = await _read_capped(response, self.max_json_bytes)
        return parse_json_document(raw)

    async def fetch_media(self, url: str, *, max_bytes: int | None = None) -> tuple[bytes, str]:
        """GET a media file, streamed and aborted past `max_bytes` (MED-04)."""
        cap = max_bytes if max_bytes is not None else self.max_media_bytes
        with self._errors(), _deadline_guard():
            async with asyncio.timeout(self.total_timeout):
                async with self._open("GET", url, {"Accept": "*/*"}) as (response, _):
                    _raise_for_status(response)
                    content_type = response.headers.get("Content-Type", "application/octet-stream")
                    return await _read_capped(response, cap), content_type

    async def post_activity(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> DeliveryResult:
        """POST a signed activity; never raises for HTTP statuses or network failures."""
        try:
            with self._errors(), _deadline_guard():
                async with asyncio.timeout(self.total_timeout):
                    # Redirects are not followed: the signature covers this exact URL.
                    async with self._open(
                        "POST", url, dict(headers), data=body, follow_redirects=False
                    ) as (response, _):
                        await _drain(response)
        except UnsafeUrl as exc:
            return DeliveryResult(None, error="unsafe", detail=exc.detail)
        except Timeout as exc:
            return DeliveryResult(None, error="timeout", detail=exc.detail)
        except ConnectionFailed as exc:
            return DeliveryResult(None, error=exc.kind, detail=exc.detail)
        status = response.status
        retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        error: ErrorKind | None = None if 200 <= status < 300 else "http"
        # DEBUG: services/delivery.py logs the outcome of every delivery once, at INFO.
        logger.debug("delivery.posted inbox=%s status=%d", url, status)
        return DeliveryResult(status, retry_after, error)

    # ------------------------------------------------------------ internals

    @asynccontextmanager
    async def _open(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        *,
        data: bytes | None = None,
        signer: RequestSigner | None = None,
        follow_redirects: bool = True,
    ) -> AsyncIterator[tuple[aiohttp.ClientResponse, URL]]:
        """One response, after at most `max_redirects` redirects, each hop re-checked."""
        target = check_url(url, allow_private_addresses=self.allow_private_addresses)
        session = self._get_session()
        for _hop in range(self.max_redirects + 1):
            hop_headers = signer(method, str(target), headers) if signer else dict(headers)
            response = await session.request(
                method, target, headers=hop_headers, data=data, allow_redirects=False
            )
            location = response.headers.get("Location")
            if follow_redirects and response.status in _REDIRECTS and location:
                response.release()
                target = _redirect_target(target, location, self.allow_private_addresses)
                continue
            try:
                yield response, target
            finally:
                response.release()
            return
        raise TooManyRedirects(detail=f"more than {self.max_redirects} redirects from {url}")

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Translate aiohttp's exceptions into our FetchError tree (FLT-04 kinds)."""
        try:
            yield
        except (aiohttp.ClientSSLError, ssl.SSLError) as exc:
            raise ConnectionFailed("tls", f"TLS failure: {exc}") from exc
        except aiohttp.ClientConnectorDNSError as exc:
            raise ConnectionFailed("dns", f"DNS failure: {exc}") from exc
        except aiohttp.InvalidURL as exc:
            raise UnsafeUrl(detail=f"invalid URL: {exc}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise ConnectionFailed("connection", f"{type(exc).__name__}: {exc}") from exc


@contextmanager
def _deadline_guard() -> Iterator[None]:
    # asyncio.timeout and aiohttp's own timeouts both end as TimeoutError (RES-08).
    try:
        yield
    except TimeoutError as exc:
        raise Timeout(detail="total deadline exceeded") from exc


def _redirect_target(current: URL, location: str, allow_private: bool) -> URL:
    try:
        joined = current.join(URL(location))
    except (ValueError, TypeError) as exc:
        raise UnsafeUrl(detail="unparsable redirect") from exc
    return check_url(str(joined), allow_private_addresses=allow_private)


def _raise_for_status(response: aiohttp.ClientResponse) -> None:
    if 200 <= response.status < 300:
        return
    if response.status == 410:
        raise Gone(detail=f"{response.url} is gone")
    if response.status == 404:
        raise NotFound(detail=f"{response.url} not found")
    raise HttpError(response.status)


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes:
    """Read the (decompressed) body, aborting as soon as it passes `cap` (RES-07, MED-04)."""
    if response.content_length is not None and response.content_length > cap:
        raise TooLarge(detail=f"Content-Length {response.content_length} > {cap}")
    buffer = bytearray()
    async for chunk in response.content.iter_chunked(65_536):
        if len(buffer) + len(chunk) > cap:
            raise TooLarge(detail=f"body larger than {cap} bytes")
        buffer += chunk
    return bytes(buffer)


async def _drain(response: aiohttp.ClientResponse) -> None:
    # Read a little of the answer so the connection can be reused; the body is not needed.
    try:
        await response.content.read(_DRAIN_BYTES)
    except aiohttp.ClientPayloadError:
        pass
