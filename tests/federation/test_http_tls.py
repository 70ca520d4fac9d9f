"""TLS: the system CA store is used, SSL_CERT_FILE is honoured, and TLS failures are typed."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from redfed.federation.http import ConnectionFailed, SafeHttpClient


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
async def https_remote(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    cert_path, key_path = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    app = web.Application()

    async def actor(request: web.Request) -> web.StreamResponse:
        return web.json_response(
            {"id": str(request.url), "type": "Person"}, content_type="application/activity+json"
        )

    app.router.add_get("/users/a", actor)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(ssl=context)
    yield f"https://127.0.0.1:{server.port}/users/a", cert_path
    await server.close()


async def test_untrusted_certificate_is_a_tls_failure(https_remote, monkeypatch) -> None:
    url, _ = https_remote
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    async with SafeHttpClient(allow_private_addresses=True, user_agent="t") as client:
        with pytest.raises(ConnectionFailed) as info:
            await client.fetch_activitypub(url)
        assert info.value.kind == "tls"
        result = await client.post_activity(url, b"{}", {})
        assert result.error == "tls"


async def test_ssl_cert_file_is_honoured(https_remote, monkeypatch) -> None:
    url, cert_path = https_remote
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_path))
    async with SafeHttpClient(allow_private_addresses=True, user_agent="t") as client:
        assert (await client.fetch_activitypub(url))["id"] == url
