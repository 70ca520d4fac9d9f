"""Plain text → HTML: escaping, paragraphs, links, hashtags, mentions."""

from __future__ import annotations

from redfed.content.compose import MAX_MENTIONS, compose_note_html
from redfed.content.sanitize import plain_text
from tests.content.harmless import problems

KNOWN = {
    ("alice", None): "https://local.example/@alice",
    ("bob", "remote.example"): "https://remote.example/@bob",
}
calls: list[tuple[str, str | None]] = []


def resolver(user, domain):
    calls.append((user, domain))
    return KNOWN.get((user, domain))


def tag_url(tag):
    return f"https://local.example/tags/{tag}"


def compose(text):
    return compose_note_html(text, tag_url=tag_url, mention_resolver=resolver)


def test_script_typed_as_text_shows_as_text():
    result = compose('<script>alert("x")</script> & <b>bold</b>')
    assert (
        result.html
        == '<p>&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;</p>'
    )
    assert plain_text(result.html) == '<script>alert("x")</script> & <b>bold</b>'


def test_paragraphs_and_line_breaks():
    result = compose("first line\r\nsecond line\n\n\n  \nnew paragraph\n")
    assert result.html == "<p>first line<br>second line</p><p>new paragraph</p>"


def test_cjk_hashtags_linked_and_listed():
    result = compose("京都の #旅行 と #Café!")
    assert result.tags == ["旅行", "café"]
    assert (
        '<a href="https://local.example/tags/旅行" class="mention hashtag" target="_blank" '
        'rel="nofollow noopener noreferrer">#<span>旅行</span></a>'
    ) in result.html
    assert "#<span>Café</span></a>!" in result.html  # shown as typed, linked normalised


def test_urls_with_underscores_and_fragments_are_one_link():
    url = "https://example.com/a_b_c/d_e?x_y=1#frag_ment"
    result = compose(f"see {url}.")
    assert result.html.count("<a ") == 1
    assert f'href="{url}"' in result.html
    assert result.tags == []  # the fragment is not a hashtag
    assert plain_text(result.html) == f"see {url}."
    assert problems(result.html) == []


def test_long_url_uses_mastodon_ellipsis_markup_and_parentheses():
    result = compose("(https://en.wikipedia.org/wiki/Python_(programming_language)) end")
    assert 'href="https://en.wikipedia.org/wiki/Python_(programming_language)"' in result.html
    assert '<span class="invisible">https://</span><span class="ellipsis">' in result.html
    assert result.html.endswith("</a>) end</p>")


def test_url_escaping_cannot_break_out_of_the_attribute():
    result = compose(
        'https://example.com/"onmouseover="alert(1) and https://example.com/?a=1&b=<x>'
    )
    assert problems(result.html) == []
    assert "onmouseover=" not in result.html.replace('"onmouseover="', "")


def test_mentions_resolved_and_unresolved():
    calls.clear()
    result = compose(
        "hi @alice and @Bob@Remote.Example, not @ghost or me@mail.example. @alice again"
    )
    # The resolver decides about case in user names; here it knows only "bob".
    assert ("Bob", "remote.example") in calls
    assert result.mentions == [("alice", None)]
    assert 'href="https://local.example/@alice" class="u-url mention"' in result.html
    assert "@ghost" in plain_text(result.html)
    assert ("mail.example", None) not in calls and ("me", "mail.example") not in calls
    assert calls.count(("alice", None)) == 1  # resolved once per distinct mention


def test_remote_mention_resolved_with_lowercased_domain():
    result = compose("@bob@Remote.Example hello")
    assert result.mentions == [("bob", "remote.example")]
    assert (
        '<span class="h-card" translate="no"><a href="https://remote.example/@bob"' in result.html
    )


def test_mention_resolution_is_capped_res03():
    calls.clear()
    compose(" ".join(f"@user{i}" for i in range(1000)))
    assert len(calls) == MAX_MENTIONS


def test_bio_usage_and_empty_text():
    assert compose("").html == ""
    assert compose("  \n\n ").tags == []
