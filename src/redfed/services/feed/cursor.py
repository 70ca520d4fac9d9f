"""Explore's paging state, carried in the cursor itself: no database row per page.

A cursor holds what the next page must know: which cards this session has shown (so pages
never repeat one) and the authors of the previous page (so a page does not open with the
author the last one ended on). Shown note ids are kept as 22-bit salted hashes in a
Golomb–Rice coded set: about 15 bits a card at page 10, 12 at page 100, so the cursor stays
under ~4 KB even for 2,000 cards. A hash collision can only hide a card that was not shown
(at most 2,000 / 2^22 ≈ 0.05 % of candidates), never show one twice.

The cursor is not signed: it only ever narrows what its bearer is shown. It is bound to the
viewer by a salted tag so a cursor passed to someone else starts them afresh, and anything
malformed or oversized starts afresh too (every cursor is input from the client).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

VERSION = 1
MAX_SHOWN = 2000  # cards remembered: two generations of half this (≈ 50–100 pages)
MAX_CURSOR_CHARS = 8000  # a full cursor is ~4 KB; longer is not ours
_HASH_BITS = 22
_MASK64 = (1 << 64) - 1
_MULT = 0x9E3779B97F4A7C15  # odd 64-bit constant (golden ratio): multiplicative hashing
_HEADER = struct.Struct(">BIIB")  # version, salt, viewer tag, authors
_SET_HEADER = struct.Struct(">BH")  # Rice parameter k, count


def _hash(value: int, salt: int, bits: int) -> int:
    return (((value ^ salt) * _MULT) & _MASK64) >> (64 - bits)


@dataclass
class PagingState:
    """One Explore session's memory, decoded from (or to be encoded into) a cursor."""

    salt: int
    viewer_tag: int
    recent: set[int] = field(default_factory=set)  # hashes, the current generation
    older: set[int] = field(default_factory=set)  # hashes, the generation before
    last_authors: set[int] = field(default_factory=set)  # 32-bit hashes

    def was_shown(self, note_id: int) -> bool:
        h = _hash(note_id, self.salt, _HASH_BITS)
        return h in self.recent or h in self.older

    def was_last_author(self, author_id: int) -> bool:
        return _hash(author_id, self.salt, 32) in self.last_authors

    def remember(self, note_ids: Iterable[int], authors: Iterable[int]) -> None:
        """Add a page: its cards to the shown set, its authors as the previous page's."""
        for note_id in note_ids:
            if len(self.recent) >= MAX_SHOWN // 2:  # forget the oldest generation
                self.older, self.recent = self.recent, set()
            self.recent.add(_hash(note_id, self.salt, _HASH_BITS))
        self.last_authors = {_hash(a, self.salt, 32) for a in authors}


def _viewer_tag(viewer_id: int | None, salt: int) -> int:
    return _hash(viewer_id or 0, salt ^ 0x5BD1E995, 32)


def fresh_state(viewer_id: int | None) -> PagingState:
    salt = secrets.randbits(32)
    return PagingState(salt=salt, viewer_tag=_viewer_tag(viewer_id, salt))


def decode(cursor: str | None, viewer_id: int | None) -> PagingState:
    """The cursor's state when it is well-formed and this viewer's; a fresh one otherwise."""
    if cursor and len(cursor) <= MAX_CURSOR_CHARS:
        try:
            state = _decode(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (ValueError, struct.error, binascii.Error):
            state = None
        if state is not None and state.viewer_tag == _viewer_tag(viewer_id, state.salt):
            return state
    return fresh_state(viewer_id)


def encode(state: PagingState) -> str:
    head = _HEADER.pack(VERSION, state.salt, state.viewer_tag, len(state.last_authors))
    authors = b"".join(struct.pack(">I", a) for a in sorted(state.last_authors))
    body = head + authors + _encode_set(state.recent) + _encode_set(state.older)
    return base64.urlsafe_b64encode(body).rstrip(b"=").decode("ascii")


def _decode(raw: bytes) -> PagingState | None:
    version, salt, tag, n_authors = _HEADER.unpack_from(raw, 0)
    if version != VERSION:
        return None
    pos = _HEADER.size
    authors = set(struct.unpack_from(f">{n_authors}I", raw, pos))
    pos += 4 * n_authors
    recent, pos = _decode_set(raw, pos)
    older, pos = _decode_set(raw, pos)
    if pos != len(raw):
        raise ValueError("trailing bytes")
    return PagingState(salt, tag, recent, older, authors)


# --- Golomb–Rice coded sets of hashes -----------------------------------------------------------
# Sorted hashes as gaps; each gap is q = gap >> k in unary (q ones, a zero) then its low k bits.
# With k ≈ log2(2^22 / n) that is about k + 2 bits a value.


def _rice_k(count: int) -> int:
    return max(0, (((1 << _HASH_BITS) // max(count, 1)).bit_length() - 1))


def _encode_set(values: set[int]) -> bytes:
    k = _rice_k(len(values))
    bits: list[str] = []
    previous = 0
    for value in sorted(values):
        gap = value - previous
        previous = value
        bits.append("1" * (gap >> k) + "0" + (format(gap & ((1 << k) - 1), f"0{k}b") if k else ""))
    text = "".join(bits)
    size = (len(text) + 7) // 8
    payload = int(text.ljust(size * 8, "0"), 2).to_bytes(size, "big") if text else b""
    return _SET_HEADER.pack(k, len(values)) + struct.pack(">H", size) + payload


def _decode_set(raw: bytes, pos: int) -> tuple[set[int], int]:
    k, count = _SET_HEADER.unpack_from(raw, pos)
    (size,) = struct.unpack_from(">H", raw, pos + _SET_HEADER.size)
    pos += _SET_HEADER.size + 2
    chunk = raw[pos : pos + size]
    if len(chunk) != size or k > _HASH_BITS or count > MAX_SHOWN:
        raise ValueError("bad set")
    text = format(int.from_bytes(chunk, "big"), f"0{size * 8}b") if size else ""
    values: set[int] = set()
    value = bit = 0
    for _ in range(count):
        zero = text.find("0", bit)
        if zero < 0 or zero + 1 + k > len(text):
            raise ValueError("truncated set")
        q = zero - bit
        low = int(text[zero + 1 : zero + 1 + k], 2) if k else 0
        value += (q << k) | low
        bit = zero + 1 + k
        values.add(value)
    if value >= 1 << _HASH_BITS:
        raise ValueError("value out of range")
    return values, pos + size
