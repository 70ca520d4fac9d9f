"""is_public_address and check_url: SSRF-01/02/05/06 at the address and URL level."""

from __future__ import annotations

import pytest

from redfed.federation.addresses import UnsafeAddress, UnsafeUrl, check_url, is_public_address

NOT_PUBLIC = [
    # SSRF-01
    "127.0.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "198.18.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "224.0.0.1",
    "192.0.2.1",
    # SSRF-02, including every address where 3.11's is_global is wrong
    "::",
    "::1",
    "fc00::1",
    "fe80::1",
    "fe80::1%eth0",
    "::ffff:127.0.0.1",
    "::127.0.0.1",
    "64:ff9b::7f00:1",
    "64:ff9b:1::1",
    "2002:7f00:1::",
    "3fff::1",
    "2001:db8::1",
    "192.0.0.8",
    "2001::1",
    "ff02::1",
    "::ffff:10.0.0.1",
    "2002:a00:1::1",
    "not an ip",
    "",
]
PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700::1111",
    "2a01:4f8::1",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
    "2002:808:808::1",
]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert is_public_address(address) is False


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public_address(address) is True


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://017700000001/",
        "http://127.1/",  # SSRF-05
        "http://0x7f000001/",
        "https://user:pass@example.com/",
        "https://example.com%25eth0/",
        "http://[fe80::1%25eth0]/",
        "https://example.com/a\r\nX-Injected: 1",
        "https://exa mple.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "ftp://example.com/",
        "data:text/plain,x",
        "https:///nohost",
        "https://exam_ple..com/",
    ],
)
def test_bad_urls_refused_even_when_private_addresses_are_allowed(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_private_addresses=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://[::1]/k",
        "http://169.254.169.254/latest",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_private_literals_refused_only_in_strict_mode(url: str) -> None:
    with pytest.raises(UnsafeAddress):
        check_url(url, allow_private_addresses=False)
    assert check_url(url, allow_private_addresses=True).host is not None


def test_check_url_canonicalises_and_drops_fragment() -> None:
    url = check_url("https://Bücher.Example/users/a#main-key", allow_private_addresses=False)
    assert str(url) == "https://xn--bcher-kva.example/users/a"
