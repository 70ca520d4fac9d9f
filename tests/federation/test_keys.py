"""Key generation and PEM loading."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from redfed.federation.keys import (
    InvalidKeyError,
    load_private_key,
    load_public_key,
)


def test_generated_pair_is_rsa_2048_pkcs8_and_spki(rsa_keys: tuple[str, str]) -> None:
    private_pem, public_pem = rsa_keys
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    private = load_private_key(private_pem)
    public = load_public_key(public_pem)
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == private.public_key().public_numbers()


def test_parsed_keys_are_cached(rsa_keys: tuple[str, str]) -> None:
    assert load_public_key(rsa_keys[1]) is load_public_key(rsa_keys[1] + "\n")


def test_pkcs1_public_key_and_ed25519_are_accepted(rsa_keys: tuple[str, str]) -> None:
    pkcs1 = load_public_key(rsa_keys[1]).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    )
    assert isinstance(load_public_key(pkcs1.decode()), rsa.RSAPublicKey)
    ed_pem = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert isinstance(load_public_key(ed_pem.decode()), ed25519.Ed25519PublicKey)


@pytest.mark.parametrize(
    "pem",
    [
        "",
        "   ",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        "x" * 20_000,
        "-----BEGIN PUBLIC KEY-----\nü\n-----END PUBLIC KEY-----",
    ],
)
def test_bad_public_pem_gives_a_clear_error(pem: str) -> None:
    with pytest.raises(InvalidKeyError):
        load_public_key(pem)


def test_bad_private_pem_gives_a_clear_error_without_key_material(
    rsa_keys: tuple[str, str],
) -> None:
    with pytest.raises(InvalidKeyError) as info:
        load_private_key(rsa_keys[1])  # a public key where a private one is needed
    assert "PUBLIC KEY" not in info.value.detail
