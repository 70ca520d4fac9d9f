"""Actor key pairs: generating RSA keys and loading PEM keys (parsed keys are cached).

Parsing a PEM key costs far more than verifying one signature, and the inbox verifies with the
same few keys over and over, so loaded keys live in small LRU caches keyed by the PEM text.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from redfed.errors import RedfedError

PublicKey: TypeAlias = rsa.RSAPublicKey | ed25519.Ed25519PublicKey
PrivateKey: TypeAlias = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey

_MAX_PEM_CHARS = 16_384  # an RSA-8192 public key is about 1.5 KB; refuse absurd input early


class InvalidKeyError(RedfedError):
    """A PEM text that is not a usable RSA or Ed25519 key."""

    status = 400
    public_message = "Invalid key."


def generate_rsa_keypair() -> tuple[str, str]:
    """A new RSA-2048 key pair as (private PEM in PKCS8, public PEM in SubjectPublicKeyInfo)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem.decode("ascii"), public_pem.decode("ascii")


def load_public_key(pem: str) -> PublicKey:
    """Parse a public key (SPKI, or PKCS#1 "RSA PUBLIC KEY" as some old peers publish)."""
    return _load_public_key(_checked_pem(pem))


def load_private_key(pem: str) -> PrivateKey:
    """Parse an unencrypted private key (PKCS8 or traditional PKCS#1)."""
    return _load_private_key(_checked_pem(pem))


def _checked_pem(pem: str) -> str:
    if not isinstance(pem, str) or not pem.strip():
        raise InvalidKeyError(detail="empty key")
    if len(pem) > _MAX_PEM_CHARS:
        raise InvalidKeyError(detail=f"key PEM too long ({len(pem)} chars)")
    return pem.strip()


@lru_cache(maxsize=512)
def _load_public_key(pem: str) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError) as exc:
        raise InvalidKeyError(detail=f"unparsable public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise InvalidKeyError(detail=f"unsupported public key type {type(key).__name__}")
    return key


@lru_cache(maxsize=64)
def _load_private_key(pem: str) -> PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError) as exc:
        # Never put the exception text in the detail: it could echo key material.
        raise InvalidKeyError(detail="unparsable private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise InvalidKeyError(detail=f"unsupported private key type {type(key).__name__}")
    return key
