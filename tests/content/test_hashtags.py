"""Hashtag extraction and normalisation (CJK, accents, underscores; RES-04 caps)."""

from __future__ import annotations

import pytest

from redfed.content.hashtags import MAX_TAGS, extract_hashtags, normalize_tag, normalize_tags


def test_extracts_cjk_accented_and_underscored_tags_in_order():
    text = "Trip #旅行 to #Café with #travel_tips、#日本の旅。 And ＃東京 too"
    assert extract_hashtags(text) == ["旅行", "café", "travel_tips", "日本の旅", "東京"]


@pytest.mark.parametrize(
    "text",
    [
        "issue #123",
        "https://example.com/page#section",
        "a/#b",
        "foo#bar",
        "&#39;",
        "email#x@y",
        "# spaced",
    ],
)
def test_not_hashtags(text):
    assert extract_hashtags(text) == []


def test_normalisation_nfkc_casefold_and_dedupe():
    # Decomposed é (e + U+0301), fullwidth letters and upper case all meet one form.
    text = "#Cafe\u0301 #CAFÉ #café #ｔｏｋｙｏ #Tokyo #Straße #STRASSE"
    assert extract_hashtags(text) == ["café", "tokyo", "strasse"]


def test_catalan_middle_dot_inside_but_not_trailing():
    assert extract_hashtags("#l·lusió #end·") == ["l·lusió", "end"]


def test_indic_marks_stay_in_the_tag():
    assert extract_hashtags("#हिन्दी rocks") == ["हिन्दी"]


def test_length_limit():
    assert normalize_tag("a" * 100) == "a" * 100
    assert normalize_tag("a" * 101) is None
    assert extract_hashtags("#" + "b" * 150) == []


@pytest.mark.parametrize("raw", ["", "#", "123", "#_", "with space", "tag!", "a<b"])
def test_invalid_names(raw):
    assert normalize_tag(raw) is None


def test_count_is_capped_res04():
    text = " ".join(f"#tag{i}" for i in range(10_000))
    tags = extract_hashtags(text)
    assert len(tags) == MAX_TAGS and tags[0] == "tag0"
    assert len(normalize_tags([f"t{i}" for i in range(500)], limit=5)) == 5


def test_normalize_tags_from_remote_names():
    assert normalize_tags(["#Travel", "travel", "#", "#1", "#旅行"]) == ["travel", "旅行"]
