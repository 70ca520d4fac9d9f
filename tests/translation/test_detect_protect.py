"""Language detection on short posts, and masking of protected tokens (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from redfed.services.translation.detect import detect_language
from redfed.services.translation.protect import mask, unmask


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天去海边玩了，好开心", "zh"),
        ("周末和朋友一起吃火锅", "zh"),
        ("Had a lovely brunch with friends today", "en"),
        ("今日は海に行きました", "ja"),
        ("Hoy fuimos a la playa con amigos", "es"),
        ("ok", None),
        ("🎉🎉 #fun https://a.example/x", None),
    ],
)
def test_detects_short_posts(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


def test_mask_finds_each_kind() -> None:
    masked = mask("去#旅行 with @alice@example.social https://a.example/x_y. 👍🏽 :blob_cat: a@b.c")
    assert masked.tokens == (
        "#旅行",
        "@alice@example.social",
        "https://a.example/x_y",
        "👍🏽",
        ":blob_cat:",
    )
    assert masked.text == "去[[0]] with [[1]] [[2]]. [[3]] [[4]] a@b.c"


def test_unmask_tolerates_spaces_and_keeps_dropped_tokens() -> None:
    masked = mask("see #a_b and @bob")
    assert unmask("voir [ [0] ] et", masked) == "voir #a_b et @bob"


@given(st.text(max_size=60))
def test_mask_roundtrip(text: str) -> None:
    masked = mask(text)
    assert unmask(masked.text, masked) == text or "[[" in text
