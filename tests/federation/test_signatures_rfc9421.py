"""RFC 9421 incoming signatures (Signature-Input + Signature), SIG-19."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding
from http_sfv.item import InnerList

from redfed.federation.keys import load_private_key
from redfed.federation.signatures import (
    SignatureError,
    parse_signed_request,
    verify_signed_request,
)

HOST = "b.example"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BODY = b'{"type":"Like"}'
KEY_ID = "https://a.example/users/alice#main-key"
POST_COMPONENTS = ["@method", "@target-uri", "content-digest"]


def sign_9421(
    private,
    *,
    method="POST",
    target=f"https://{HOST}/inbox",
    body=BODY,
    components=POST_COMPONENTS,
    created=NOW,
    alg="rsa-v1_5-sha256",
    keyid=KEY_ID,
    label="sig1",
):
    """An independent, minimal RFC 9421 signer for the tests (values per RFC 9421 section 2)."""
    headers = {"Host": HOST}
    if body is not None:
        headers["Content-Digest"] = (
            "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
        )
    params = InnerList(components)
    if created is not None:
        params.params["created"] = int(created.timestamp())
    if keyid is not None:
        params.params["keyid"] = keyid
    if alg:
        params.params["alg"] = alg
    values = {
        "@method": method,
        "@target-uri": target,
        "content-digest": headers.get("Content-Digest", ""),
        "host": HOST,
    }
    base = "".join(f'"{c}": {values[c]}\n' for c in components) + f'"@signature-params": {params}'
    if isinstance(private, ed25519.Ed25519PrivateKey):
        signature = private.sign(base.encode())
    else:
        signature = load_private_key(private).sign(
            base.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    headers["Signature-Input"] = f"{label}={params}"
    headers["Signature"] = f"{label}=:{base64.b64encode(signature).decode()}:"
    return headers


def check(headers, *, method="POST", path="/inbox", query="", body=BODY, now=NOW):
    return parse_signed_request(method, path, query, headers, body, now=now, expected_host=HOST)


def test_rsa_round_trip(rsa_keys, other_rsa_keys) -> None:
    signed = check(sign_9421(rsa_keys[0]))
    assert signed.scheme == "rfc9421" and signed.key_id == KEY_ID
    verify_signed_request(signed, rsa_keys[1])
    with pytest.raises(SignatureError):
        verify_signed_request(signed, other_rsa_keys[1])


def test_ed25519_round_trip_with_query() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    headers = sign_9421(
        private,
        method="GET",
        target=f"https://{HOST}/users/bob?page=2",
        body=None,
        components=["@method", "@target-uri", "host"],
        alg="ed25519",
    )
    signed = check(headers, method="GET", path="/users/bob", query="page=2", body=None)
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    verify_signed_request(signed, pem)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"created": None},  # SIG-19: no created
        {"components": ["@method", "content-digest"]},  # no @target-uri
        {"components": ["@method", "@target-uri"]},  # POST without content-digest
        {"keyid": None},
        {"alg": "hmac-sha256"},
        {"alg": "rsa-pss-sha512"},
        {"created": NOW - timedelta(minutes=66)},
        {"created": NOW + timedelta(minutes=61)},
        {"target": "https://other.example/inbox"},
    ],
)
def test_sig19_refused(rsa_keys, kwargs) -> None:
    headers = sign_9421(rsa_keys[0], **kwargs)
    with pytest.raises(SignatureError):
        verify_signed_request(check(headers), rsa_keys[1])


def test_sig19_body_changed(rsa_keys) -> None:
    with pytest.raises(SignatureError, match="Invalid Digest"):
        check(sign_9421(rsa_keys[0]), body=b'{"type":"Delete"}')


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Signature-Input", 'sig1=("@method"'),
        ("Signature-Input", 'sig1=("@method" "@target-uri");created="x";keyid="k"'),
        ("Signature-Input", "Sig1=()"),
        ("Signature-Input", 'sig1="not an inner list"'),
        (
            "Signature-Input",
            'sig1=("@method" "@method" "@target-uri" "content-digest")'
            ';created=1740830400;keyid="k"',
        ),
        (
            "Signature-Input",
            'sig1=("@method";sf "@target-uri" "content-digest");created=1740830400;keyid="k"',
        ),
        ("Signature-Input", "x" * 20_000),
        ("Signature", 'sig1="text"'),
        ("Signature", "sig2=:AAAA:"),
        ("Signature", ":::"),
        ("Content-Digest", "sha-256=notbytes"),
        ("Content-Digest", "md5=:AAAA:"),
    ],
)
def test_sig19_malformed_dictionaries(rsa_keys, field: str, value: str) -> None:
    headers = sign_9421(rsa_keys[0])
    headers[field] = value
    with pytest.raises(SignatureError):
        check(headers)
