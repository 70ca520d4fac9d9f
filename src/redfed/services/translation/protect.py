"""Masking what a translation model must not touch: URLs, @mentions, #hashtags, emoji, :codes:.

Sentencepiece decoding in argostranslate turns `_` into a space and models rewrite or drop handles,
so each protected token is swapped for a numbered placeholder before translation and put back after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_URL = r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]}。，！？]"
# Lookbehinds exclude ASCII word characters only: CJK text puts tags right after a character.
_MENTION = r"(?<![A-Za-z0-9_@.])@[\w.-]*\w(?:@[\w-]+(?:\.[\w-]+)+)?"
_HASHTAG = r"(?<![A-Za-z0-9_#&])#\w+"
_SHORTCODE = r"(?<!\w):[a-zA-Z0-9_]{2,}:(?!\w)"
# Emoji: pictographs, dingbats, flags, keycaps; joined sequences (ZWJ, variation selector, skin)
# are kept together so they come back unchanged.
_EMOJI_CHAR = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\U0001f1e6-\U0001f1ff"
_EMOJI = f"[{_EMOJI_CHAR}][\ufe0f\u200d\U0001f3fb-\U0001f3ff\u20e3{_EMOJI_CHAR}]*"
PROTECTED = re.compile(f"{_URL}|{_MENTION}|{_HASHTAG}|{_SHORTCODE}|{_EMOJI}")

# Digits and square brackets pass through sentencepiece models unchanged and are rarely translated;
# the restore pattern tolerates the spaces a model may insert inside the placeholder.
_PLACEHOLDER = "[[{}]]"
_RESTORE = re.compile(r"\[\s*\[\s*(\d+)\s*\]\s*\]")


@dataclass(frozen=True)
class Masked:
    text: str
    tokens: tuple[str, ...]


def mask(text: str) -> Masked:
    """Replace every protected token in `text` by a numbered placeholder."""
    tokens: list[str] = []

    def swap(match: re.Match[str]) -> str:
        tokens.append(match.group(0))
        return _PLACEHOLDER.format(len(tokens) - 1)

    return Masked(PROTECTED.sub(swap, text), tuple(tokens))


def unmask(translated: str, masked: Masked) -> str:
    """Put the protected tokens back; any the model dropped are appended so nothing is lost."""
    seen: set[int] = set()

    def restore(match: re.Match[str]) -> str:
        index = int(match.group(1))
        if index >= len(masked.tokens):
            return match.group(0)
        seen.add(index)
        return masked.tokens[index]

    result = _RESTORE.sub(restore, translated)
    missing = [tok for i, tok in enumerate(masked.tokens) if i not in seen]
    if missing:
        result = " ".join([result.rstrip(), *missing]).strip()
    return result
