"""HTML translation keeps markup, skips mentions/hashtags/code, and re-sanitises the output."""

from __future__ import annotations

from redfed.services.translation.engine import TranslationEngine


async def test_markup_kept_and_text_translated(engine: TranslationEngine) -> None:
    html = (
        "<p>Hello <strong>friends</strong> and "
        '<span class="h-card"><a href="https://b.example/@alice" class="u-url mention">'
        "@<span>alice</span></a></span> "
        '<a href="https://b.example/tags/travel" class="mention hashtag" rel="tag">'
        "#<span>travel</span></a></p><p><code>do_not_touch()</code> Bye.</p>"
    )
    out = await engine.translate_html(html, "en", "zh")
    assert out.startswith("<p>Uryyb <strong>sevraqf</strong> naq ")
    assert "@<span>alice</span></a></span>" in out
    assert "#<span>travel</span></a>" in out
    assert 'href="https://b.example/tags/travel"' in out
    assert "<code>do_not_touch()</code> Olr.</p>" in out


async def test_markup_is_sanitised_again(engine: TranslationEngine) -> None:
    html = '<p>Look <img src="x" onerror="alert(1)"> <script>alert(2)</script>here</p>'
    out = await engine.translate_html(html, "en", "zh")
    assert "onerror" not in out and "<script" not in out and "<img" not in out
    assert "Ybbx" in out and "urer" in out


async def test_model_output_with_markup_comes_out_as_text(engine: TranslationEngine) -> None:
    # ROT13 of this text is "<img src=x onerror=alert(1)>": the model "produces" an XSS payload.
    html = "<p>&lt;vzt fep=k bareebe=nyreg(1)&gt;</p>"
    out = await engine.translate_html(html, "en", "zh")
    assert "<img" not in out
    assert out == "<p>&lt;img src=x onerror=alert(1)&gt;</p>"
