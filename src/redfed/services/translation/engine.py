"""The one home of argostranslate: offline translation of texts and HTML in a bounded thread pool.

argostranslate reads its settings once at import and creates folders under XDG_* then, so the
environment is set first and the module imported lazily; nothing is downloaded at translate time.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from redfed.errors import ServiceUnavailable
from redfed.services.translation.html_text import translate_html
from redfed.services.translation.protect import mask, unmask

log = logging.getLogger(__name__)

DEFAULT_INDEX_URL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/"
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s*")

_lock = threading.RLock()  # guards argostranslate's process-wide state (settings, caches)
_state: dict[str, Any] = {"argos": None, "dir": None, "stamp": None}


class TranslationUnavailable(ServiceUnavailable):
    public_message = "Translation between these languages is not available."


@dataclass(frozen=True)
class LanguagePair:
    source: str
    target: str


def _set_environment(packages_dir: Path, index_url: str) -> None:
    home = packages_dir.parent
    os.environ["ARGOS_PACKAGES_DIR"] = str(packages_dir)
    os.environ["XDG_DATA_HOME"] = str(home / "xdg-data")
    os.environ["XDG_CONFIG_HOME"] = str(home / "xdg-config")
    os.environ["XDG_CACHE_HOME"] = str(home / "xdg-cache")
    os.environ["ARGOS_PACKAGE_INDEX"] = index_url
    # MiniSBD is the only splitter without torch; others would be skipped or fail.
    os.environ["ARGOS_CHUNK_TYPE"] = "MINISBD"
    os.environ.setdefault("ARGOS_INTER_THREADS", "1")
    os.environ.setdefault("ARGOS_INTRA_THREADS", "1")


def _argos(packages_dir: Path, index_url: str) -> Any:
    """Import argostranslate once, pointed at packages_dir; re-point it when the folder changed."""
    with _lock:
        if _state["argos"] is None:
            packages_dir.mkdir(parents=True, exist_ok=True)
            _set_environment(packages_dir, index_url)
            import argostranslate.package as package  # noqa: PLC0415 - lazy on purpose
            import argostranslate.settings as settings  # noqa: PLC0415
            import argostranslate.translate as translate  # noqa: PLC0415
            import ctranslate2  # noqa: PLC0415
            from minisbd import models as minisbd_models  # noqa: PLC0415

            _state["argos"] = SimpleNamespace(
                package=package,
                settings=settings,
                translate=translate,
                ctranslate2=ctranslate2,
                minisbd_models=minisbd_models,
            )
            _state["dir"] = packages_dir
        argos = _state["argos"]
        stamp = packages_dir.stat().st_mtime_ns if packages_dir.exists() else 0
        if _state["dir"] != packages_dir or _state["stamp"] != stamp:
            # Another engine (tests) or an install/remove (CLI, other process) changed the folder.
            packages_dir.mkdir(parents=True, exist_ok=True)
            argos.settings.package_data_dir = packages_dir
            argos.settings.package_dirs = [packages_dir]
            argos.translate.installed_translates.clear()
            argos.translate.get_installed_languages.cache_clear()
            _state["dir"], _state["stamp"] = packages_dir, stamp
        return argos


def _package_steps(translation: Any) -> list[Any]:
    """Flatten argos' own pivot (CompositeTranslation) into its PackageTranslation hops."""
    if hasattr(translation, "underlying"):
        return _package_steps(translation.underlying)
    if hasattr(translation, "t1"):
        return _package_steps(translation.t1) + _package_steps(translation.t2)
    if hasattr(translation, "pkg"):
        return [translation]
    return []  # IdentityTranslation


def split_sentences_plain(paragraph: str) -> list[str]:
    """Fallback splitter on sentence punctuation, used when no local MiniSBD model exists."""
    return [s for s in _SENTENCE_END.split(paragraph) if s.strip()]


class TranslationEngine:
    """In-process translator; CPU work runs in a small pool, never on the event loop."""

    def __init__(
        self, packages_dir: Path, max_workers: int = 1, index_url: str = DEFAULT_INDEX_URL
    ) -> None:
        self.packages_dir = Path(packages_dir)
        self.index_url = index_url
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="translate")
        self._step_lock = threading.Lock()

    def _api(self) -> Any:
        return _argos(self.packages_dir, self.index_url)

    def installed_pairs(self) -> list[LanguagePair]:
        """Every (source, target) the installed packages can do, pivots included."""
        languages = self._api().translate.get_installed_languages()
        return sorted(
            {
                LanguagePair(lang.code, t.to_lang.code)
                for lang in languages
                for t in lang.translations_from
                if t.to_lang.code != lang.code
            },
            key=lambda p: (p.source, p.target),
        )

    def can_translate(self, source: str, target: str) -> bool:
        return source == target or LanguagePair(source, target) in self.installed_pairs()

    async def translate_texts(self, texts: list[str], source: str, target: str) -> list[str]:
        """Translate several plain texts in one batch; protected tokens come back unchanged."""
        if source == target or not texts:
            return list(texts)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool, self.translate_texts_sync, texts, source, target
        )

    async def translate_html(self, html: str, source: str, target: str) -> str:
        """Translate the text of an HTML fragment, keep its markup, sanitise the result again."""
        return await translate_html(self, html, source, target)

    def translate_texts_sync(self, texts: list[str], source: str, target: str) -> list[str]:
        masked = [mask(text) for text in texts]
        steps = self._steps(source, target)
        current = [m.text for m in masked]
        for step in steps:
            current = self._run_step(step, current)
        return [unmask(out, m) for out, m in zip(current, masked, strict=True)]

    def _steps(self, source: str, target: str) -> list[Any]:
        with _lock:
            api = self._api()
            from_lang = api.translate.get_language_from_code(source)
            to_lang = api.translate.get_language_from_code(target)
            translation = from_lang.get_translation(to_lang) if from_lang and to_lang else None
        if translation is None:
            raise TranslationUnavailable(detail=f"translation.unavailable {source}->{target}")
        return _package_steps(translation)

    def _run_step(self, step: Any, texts: list[str]) -> list[str]:
        """One package hop over all texts: split, tokenize, one CTranslate2 batch, decode."""
        translator, split = self._prepare(step)
        tokenizer = step.pkg.tokenizer
        paragraphs = [text.split("\n") for text in texts]
        batch: list[list[str]] = []
        spans: list[list[tuple[int, int]]] = []
        for text_paragraphs in paragraphs:
            spans.append([])
            for paragraph in text_paragraphs:
                start = len(batch)
                if paragraph.strip():
                    batch.extend(tokenizer.encode(s) for s in split(paragraph))
                spans[-1].append((start, len(batch)))
        results = self._translate_batch(translator, step, batch) if batch else []
        out = []
        for text_spans in spans:
            decoded = []
            for start, end in text_spans:
                tokens = [tok for r in results[start:end] for tok in r]
                value = tokenizer.decode(tokens) if tokens else ""
                decoded.append(value[1:] if value.startswith(" ") else value)
            out.append("\n".join(decoded))
        return out

    def _translate_batch(self, translator: Any, step: Any, batch: list[list[str]]) -> list[Any]:
        settings = self._api().settings
        prefix = step.pkg.target_prefix
        results = translator.translate_batch(
            batch,
            target_prefix=[[prefix]] * len(batch) if prefix else None,
            replace_unknowns=True,
            # argos passes ARGOS_BATCH_SIZE (32) as *tokens*, i.e. about one sentence per batch;
            # counted in examples it batches the sentences of many texts together.
            max_batch_size=settings.batch_size,
            batch_type="examples",
            beam_size=settings.beam_size,
            length_penalty=0.2,
        )
        hypotheses = [r.hypotheses[0] for r in results]
        if prefix:  # argos strips the prefix after decoding; dropping the piece is equivalent
            hypotheses = [h[1:] if h[:1] == [prefix] else h for h in hypotheses]
        return hypotheses

    def _prepare(self, step: Any) -> tuple[Any, Callable[[str], list[str]]]:
        with self._step_lock:
            if step.translator is None:
                api = self._api()
                settings = api.settings
                params: dict[str, Any] = {
                    "device": settings.device,
                    "inter_threads": settings.inter_threads,
                    "intra_threads": settings.intra_threads,
                }
                if settings.compute_type != "auto":
                    params["compute_type"] = settings.compute_type
                step.translator = api.ctranslate2.Translator(
                    str(step.pkg.package_path / "model"), **params
                )
            return step.translator, self._splitter(step)

    def _splitter(self, step: Any) -> Callable[[str], list[str]]:
        """MiniSBD when its model is on disk, else the plain splitter: never a download."""
        sentencizer = step.sentencizer
        lang = str(getattr(sentencizer, "lang", ""))
        models = self._api().minisbd_models
        local = os.path.isfile(lang) or (
            lang in models.MODELS
            and os.path.isfile(os.path.join(models.cache_dir, models.MODELS[lang]))
        )
        if local:
            return sentencizer.split_sentences  # type: ignore[no-any-return]
        if not getattr(step, "_redfed_warned", False):
            log.warning(
                "translation.no_local_splitter pair=%s-%s", step.pkg.from_code, step.pkg.to_code
            )
            step._redfed_warned = True
        return split_sentences_plain

    def close(self) -> None:
        self._pool.shutdown(wait=True)
