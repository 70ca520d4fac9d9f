"""draft-cavage-12 signatures: signing, the key-free checks (SIG-02..10) and verification."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import httpsig
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from redfed.federation.signatures import (
    SignatureError,
    http_date,
    parse_signed_request,
    sign_request,
    verify_signed_request,
)

HOST = "b.example"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
BODY = b'{"type":"Follow","actor":"https://a.example/users/alice"}'
KEY_ID = "https://a.example/users/alice#main-key"


def signed_post(private_pem: str, body: bytes = BODY, url: str = f"https://{HOST}/inbox", **kw):
    return sign_request(
        "POST", url, body=body, key_id=KEY_ID, private_key_pem=private_pem, now=kw.get("now", NOW)
    )


def check(headers, *, method="POST", path="/inbox", query="", body=BODY, now=NOW):
    return parse_signed_request(method, path, query, headers, body, now=now, expected_host=HOST)


def test_outgoing_post_has_mastodon_profile(rsa_keys) -> None:
    headers = signed_post(rsa_keys[0])
    assert headers["Date"] == "Sat, 01 Mar 2025 12:00:00 GMT"
    assert headers["Host"] == HOST
    digest = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert headers["Digest"] == f"SHA-256={digest}"
    assert headers["Content-Type"] == "application/activity+json"
    signature = headers["Signature"]
    assert f'keyId="{KEY_ID}"' in signature and 'algorithm="rsa-sha256"' in signature
    assert 'headers="(request-target) host date digest content-type"' in signature


def test_outgoing_get_signs_no_digest_and_includes_the_query(rsa_keys) -> None:
    headers = sign_request(
        "GET",
        "https://b.example:8443/users/bob?page=1",
        body=None,
        key_id=KEY_ID,
        private_key_pem=rsa_keys[0],
        headers={"Accept": "application/activity+json"},
        now=NOW,
    )
    assert "Digest" not in headers and headers["Host"] == "b.example:8443"
    assert 'headers="(request-target) host date"' in headers["Signature"]
    signed = parse_signed_request(
        "GET", "/users/bob", "page=1", headers, None, now=NOW, expected_host="b.example:8443"
    )
    assert signed.signing_string.startswith(b"(request-target): get /users/bob?page=1\n")
    verify_signed_request(signed, rsa_keys[1])


def test_round_trip_and_wrong_key(rsa_keys, other_rsa_keys) -> None:
    signed = check(signed_post(rsa_keys[0]))
    assert signed.key_id == KEY_ID and signed.algorithm == "rsa-sha256"
    verify_signed_request(signed, rsa_keys[1])
    with pytest.raises(SignatureError, match="Verification failed"):
        verify_signed_request(signed, other_rsa_keys[1])


def test_sig01_unsigned_request() -> None:
    with pytest.raises(SignatureError):
        check({"Host": HOST, "Date": http_date(NOW)})


def test_sig02_body_changed_after_signing(rsa_keys) -> None:
    with pytest.raises(SignatureError) as info:
        check(signed_post(rsa_keys[0]), body=BODY.replace(b"alice", b"mallory"))
    # The 401 body says exactly this, and nothing about our internals.
    assert info.value.public_message == "Invalid Digest" and info.value.status == 401


def test_sig03_post_without_digest_signed(rsa_keys) -> None:
    headers = sign_request(
        "GET",
        f"https://{HOST}/inbox",
        body=None,
        key_id=KEY_ID,
        private_key_pem=rsa_keys[0],
        now=NOW,
    )
    headers["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    with pytest.raises(SignatureError, match="Digest"):
        check(headers)


@pytest.mark.parametrize(
    "digest",
    [
        "SHA-512=" + base64.b64encode(hashlib.sha512(BODY).digest()).decode(),
        "SHA-256=!!notb64",
        "SHA-256=" + base64.b64encode(hashlib.sha1(BODY).digest()).decode(),
        "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode().rstrip("="),
    ],
)
def test_sig04_bad_digest_header(rsa_keys, digest: str) -> None:
    headers = signed_post(rsa_keys[0])
    headers["Digest"] = digest
    with pytest.raises(SignatureError, match="Invalid Digest"):
        check(headers)


@pytest.mark.parametrize(
    "offset", [timedelta(minutes=-66), timedelta(days=-2), timedelta(minutes=61)]
)
def test_sig05_date_outside_window(rsa_keys, offset: timedelta) -> None:
    headers = signed_post(rsa_keys[0], now=NOW + offset)
    with pytest.raises(SignatureError, match="time window"):
        check(headers)


@pytest.mark.parametrize("offset", [timedelta(minutes=-64), timedelta(minutes=59), timedelta(0)])
def test_sig05_date_inside_window(rsa_keys, offset: timedelta) -> None:
    verify_signed_request(check(signed_post(rsa_keys[0], now=NOW + offset)), rsa_keys[1])


def test_sig05_unparsable_date(rsa_keys) -> None:
    headers = signed_post(rsa_keys[0])
    headers["Date"] = "wrong date"
    with pytest.raises(SignatureError, match="Date"):
        check(headers)


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [("GET", "/inbox", "x=1"), ("POST", "/other", "x=1"), ("POST", "/inbox", "x=2")],
)
def test_sig06_signature_for_another_request(rsa_keys, method, path, query) -> None:
    headers = signed_post(rsa_keys[0], url=f"https://{HOST}/inbox?x=1")
    body = None if method == "GET" else BODY
    with pytest.raises(SignatureError):
        signed = check(headers, method=method, path=path, query=query, body=body)
        verify_signed_request(signed, rsa_keys[1])


def test_sig07_signature_without_query_is_accepted(rsa_keys) -> None:
    headers = sign_request(
        "GET",
        f"https://{HOST}/users/bob/outbox",
        body=None,
        key_id=KEY_ID,
        private_key_pem=rsa_keys[0],
        now=NOW,
    )
    signed = check(headers, method="GET", path="/users/bob/outbox", query="page=1", body=None)
    verify_signed_request(signed, rsa_keys[1])


def test_sig08_get_without_signed_host(rsa_keys) -> None:
    headers = _cavage_by_hand(rsa_keys[0], "(request-target) date", method="get", path="/users/bob")
    with pytest.raises(SignatureError, match="Host"):
        check(headers, method="GET", path="/users/bob", body=None)


def test_sig08_signed_for_another_host(rsa_keys) -> None:
    headers = signed_post(rsa_keys[0], url="https://other.example/inbox")
    with pytest.raises(SignatureError, match="Host"):
        check(headers)


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "rsa-sha1", "RSA-SHA512", "ecdsa-sha256"])
def test_sig09_refused_algorithms(rsa_keys, algorithm: str) -> None:
    headers = signed_post(rsa_keys[0])
    headers["Signature"] = headers["Signature"].replace("rsa-sha256", algorithm)
    with pytest.raises(SignatureError, match="algorithm"):
        check(headers)


def test_sig09_rsa_sha256_with_created(rsa_keys) -> None:
    headers = _cavage_by_hand(rsa_keys[0], "(request-target) host (created)", created=NOW)
    with pytest.raises(SignatureError, match="created"):
        check(headers, body=None, method="GET", path="/inbox")


def test_hs2019_with_created_and_ed25519_key() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    created = int(NOW.timestamp())
    string = f"(request-target): get /users/bob\nhost: {HOST}\n(created): {created}".encode()
    signature = base64.b64encode(private.sign(string)).decode()
    headers = {
        "Host": HOST,
        "Signature": (
            f'keyId="{KEY_ID}",algorithm="hs2019",created={created},'
            f'headers="(request-target) host (created)",signature="{signature}"'
        ),
    }
    signed = check(headers, method="GET", path="/users/bob", body=None)
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    verify_signed_request(signed, public_pem)


@pytest.mark.parametrize(
    "value",
    [
        'algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAAA"',
        'keyId="a",keyId="b",headers="(request-target) host date digest",signature="AAAA"',
        'keyId="a,headers="(request-target) host date digest",signature="AAAA',
        'keyId="' + "k" * 100_000 + '",signature="AAAA"',
        "",
        ",",
        'keyId="a",',
        'keyId="a" signature="b"',
        'keyId=="a"',
        "\x00\xff",
        'keyId="a",headers="(request-target) host date digest",signature="not base64!"',
    ],
)
def test_sig10_malformed_header_is_a_clean_signature_error(rsa_keys, value: str) -> None:
    headers = signed_post(rsa_keys[0])
    headers["Signature"] = value
    with pytest.raises(SignatureError):
        check(headers)


def test_duplicate_header_names_are_joined_case_insensitively(rsa_keys) -> None:
    headers = {k.upper(): v for k, v in signed_post(rsa_keys[0]).items()}
    verify_signed_request(check(headers), rsa_keys[1])


def test_interop_our_signature_verifies_with_httpsig(rsa_keys) -> None:
    headers = signed_post(rsa_keys[0], url=f"https://{HOST}/inbox?a=1")
    verifier = httpsig.HeaderVerifier(
        headers,
        rsa_keys[1],
        required_headers=["(request-target)", "host", "date", "digest"],
        method="POST",
        path="/inbox?a=1",
        sign_header="signature",
    )
    assert verifier.verify() is True


def test_interop_httpsig_signature_verifies_with_ours(rsa_keys) -> None:
    names = ["(request-target)", "host", "date", "digest"]
    signer = httpsig.HeaderSigner(
        KEY_ID, rsa_keys[0], algorithm="rsa-sha256", headers=names, sign_header="signature"
    )
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    headers = signer.sign(
        {"Host": HOST, "Date": http_date(NOW), "Digest": digest}, method="POST", path="/inbox"
    )
    verify_signed_request(check(dict(headers)), rsa_keys[1])


def _cavage_by_hand(private_pem, names, *, method="post", path="/inbox", created=None):
    """Build a signature with arbitrary signed headers (for the negative rows)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from redfed.federation.keys import load_private_key

    values = {"host": HOST, "date": http_date(NOW)}
    lines = []
    for name in names.split():
        if name == "(request-target)":
            lines.append(f"(request-target): {method} {path}")
        elif name == "(created)":
            lines.append(f"(created): {int(created.timestamp())}")
        else:
            lines.append(f"{name}: {values[name]}")
    key = load_private_key(private_pem)
    sig = base64.b64encode(key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256()))
    extra = f",created={int(created.timestamp())}" if created else ""
    return {
        "Host": HOST,
        "Date": values["date"],
        "Signature": (
            f'keyId="{KEY_ID}",algorithm="rsa-sha256"{extra},headers="{names}",signature="{sig.decode()}"'
        ),
    }
