"""LibreTranslate-compatible API (`POST /translate`, `GET /languages`, `POST /detect`), so this
instance can be the translation backend of Mastodon and other servers. Off unless
`translation.libretranslate_api` is set; then `/translate` and `/detect` need a key from
`translation.api_keys`. `/languages` is open, as in LibreTranslate itself: Mastodon asks it for
the supported pairs without a key, and it only lists installed language codes.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

from quart import Blueprint, jsonify, request
from quart.typing import ResponseReturnValue

from redfed.content.sanitize import plain_text
from redfed.errors import BadRequest, Forbidden, NotFound, RedfedError
from redfed.services.translation.engine import TranslationUnavailable
from redfed.services.translation.languages import (
    can_translate,
    detect_with_confidence,
    get_engine,
    language_names,
    translation_languages,
)
from redfed.web.security import csrf_exempt, runtime

bp = Blueprint("libretranslate", __name__)

MAX_CHARS = 10_000  # all texts of one request together (LibreTranslate's char_limit)
MAX_TEXTS = 100


class TranslateError(RedfedError):
    status = 500  # LibreTranslate's answer when the engine fails


def _invalid(message: str) -> BadRequest:
    return BadRequest(f"Invalid request: {message}")


async def _params() -> dict[str, Any]:
    """JSON or form body: LibreTranslate accepts both (Mastodon sends JSON, curl often a form)."""
    params: dict[str, Any] = dict(request.args.items())
    if request.mimetype == "application/json":
        # Mastodon sends `Content-Type: application/json` even on GET with an empty body.
        data = await request.get_json(silent=True) if await request.get_data() else {}
        if not isinstance(data, dict):
            raise _invalid("the JSON body must be an object")
        return params | data
    form = await request.form
    for key in form.keys():
        values = form.getlist(key)
        params[key] = values if key == "q" and len(values) > 1 else values[0]
    return params


def _check_enabled() -> None:
    settings = runtime().settings.translation
    if not settings.libretranslate_api or not settings.enabled:
        raise NotFound(detail="libretranslate.disabled")


def _check_access(params: dict[str, Any]) -> None:
    _check_enabled()
    settings = runtime().settings.translation
    key = params.get("api_key")
    sent = key.encode() if isinstance(key, str) else b""
    # Compare against every key (no early exit) in constant time per key.
    matches = [hmac.compare_digest(sent, k.encode()) for k in settings.api_keys if k]
    if not sent or not any(matches):
        raise Forbidden("Invalid API key")


def _texts(params: dict[str, Any]) -> tuple[list[str], bool]:
    q = params.get("q")
    if q is None or q == "" or q == []:
        raise _invalid("missing q parameter")
    batch = isinstance(q, list)
    texts = q if batch else [q]
    if not all(isinstance(t, str) for t in texts) or len(texts) > MAX_TEXTS:
        raise _invalid(f"q must be a string or a list of at most {MAX_TEXTS} strings")
    size = sum(len(t) for t in texts)
    if size > MAX_CHARS:
        raise _invalid(f"request ({size}) exceeds text limit ({MAX_CHARS})")
    return texts, batch


def _code(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"missing {name} parameter")
    return value.strip().lower()


@bp.post("/translate")
@csrf_exempt  # no cookie authority: the API key is the credential
async def translate() -> ResponseReturnValue:
    params = await _params()
    _check_access(params)
    texts, batch = _texts(params)
    source, target = _code(params, "source"), _code(params, "target")
    text_format = params.get("format") or "text"
    if text_format not in ("text", "html"):
        raise _invalid("format must be text or html")
    rt = runtime()
    detected: list[tuple[str, float]] = []
    if source == "auto":
        plain = [plain_text(t) if text_format == "html" else t for t in texts]
        detected = [await asyncio.to_thread(detect_with_confidence, t) for t in plain]
    sources = [d[0] for d in detected] if detected else [source] * len(texts)
    for code in {*sources, target}:
        if code not in language_names(rt.settings):
            raise BadRequest(f"{code} is not supported")
    for code in set(sources):
        if code != target and not can_translate(rt.settings, code, target):
            raise BadRequest(f"{code} → {target} is not supported")
    out = await _translate_all(texts, sources, target, html=text_format == "html")
    body: dict[str, Any] = {"translatedText": out if batch else out[0]}
    if detected:
        found = [{"confidence": c, "language": code} for code, c in detected]
        body["detectedLanguage"] = found if batch else found[0]
    return jsonify(body)


async def _translate_all(
    texts: list[str], sources: list[str], target: str, *, html: bool
) -> list[str]:
    engine = get_engine(runtime())
    out = list(texts)
    try:
        for source in sorted(set(sources)):
            indexes = [i for i, s in enumerate(sources) if s == source]
            if html:
                for i in indexes:
                    out[i] = await engine.translate_html(texts[i], source, target)
            else:
                done = await engine.translate_texts([texts[i] for i in indexes], source, target)
                for i, text in zip(indexes, done, strict=True):
                    out[i] = text
    except TranslationUnavailable as exc:  # a package was removed meanwhile
        raise BadRequest("This language pair is not supported", detail=exc.detail) from exc
    except Exception as exc:  # the engine failing: LibreTranslate answers 500
        detail = f"libretranslate.failed {exc!r}"
        raise TranslateError("Cannot translate text", detail=detail) from exc
    return out


@bp.get("/languages")
async def languages() -> ResponseReturnValue:
    _check_enabled()
    settings = runtime().settings
    names = language_names(settings)
    pairs = translation_languages(settings)
    return jsonify(
        [
            {"code": code, "name": names[code], "targets": pairs.get(code, [])}
            for code in sorted(names)
        ]
    )


@bp.post("/detect")
@csrf_exempt
async def detect() -> ResponseReturnValue:
    params = await _params()
    _check_access(params)
    q = params.get("q")
    if not isinstance(q, str) or not q:
        raise _invalid("missing q parameter")
    if len(q) > MAX_CHARS:
        raise _invalid(f"request ({len(q)}) exceeds text limit ({MAX_CHARS})")
    code, confidence = await asyncio.to_thread(detect_with_confidence, q)
    return jsonify([{"confidence": confidence, "language": code}])
