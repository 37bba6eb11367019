"""Fingerprints of a slide, for finding its copies across decks (slide lineage):
a perceptual hash of its thumbnail (imagehash's pHash, 64 bits) and a MinHash
of its text (word 3-shingles, 64 hash functions), plus the bucket keys that
index them so candidates are looked up, never compared all against all:

- MinHash: 16 bands of 4 values; two slides whose texts share a Jaccard
  similarity J meet in at least one band with probability 1 - (1 - J^4)^16
  (0.98 at J = 0.7, 0.65 at J = 0.5, 0.02 at J = 0.2).
- pHash: 4 bands of 16 bits; two hashes within Hamming distance 3 always share
  a band (pigeonhole), and most within 8 do.

No Flask; plain values in and out."""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass

import numpy as np

NUM_HASHES = 64
BANDS, ROWS = 16, 4
PHASH_BANDS = 4
# Hash functions h_i(x) = ((a_i * x + b_i) mod 2^64) >> 32 (multiply-shift), fixed seeds:
# fingerprints are stored and compared across runs.
_rng = np.random.default_rng(20261130)
_A = (_rng.integers(0, 2**63, NUM_HASHES, dtype=np.uint64) << np.uint64(1)) | np.uint64(1)  # odd
_B = _rng.integers(0, 2**63, NUM_HASHES, dtype=np.uint64)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# When two slides are the same slide (identical or near-identical).
SAME_TEXT = 0.9          # text Jaccard at least this: the same slide, whatever its look
SIMILAR_TEXT = 0.5       # ... at least this, and looks alike (pHash distance at most SIMILAR_LOOK)
SIMILAR_LOOK = 20
SAME_LOOK = 6            # slides with little or no text: pHash distance at most this, and the same words
MIN_SHINGLES = 3         # fewer: "little text", compared by its words and its look
SHORT_TEXT = 8           # fewer shingles ("Step 1 Step 2 Step 3"): the same words need a similar look too


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def shingles(text: str, size: int = 3) -> set[str]:
    tokens = words(text)
    if len(tokens) < size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)}


def _base_hashes(items: set[str]) -> np.ndarray:
    return np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little") for s in items],
                    dtype=np.uint64)


def minhash(text: str) -> bytes | None:
    """64 uint32 minima as 256 bytes; None for a slide without words."""
    items = shingles(text)
    if not items:
        return None
    x = _base_hashes(items)
    with np.errstate(over="ignore"):
        values = (_A[:, None] * x[None, :] + _B[:, None]) >> np.uint64(32)  # wraps mod 2^64, on purpose
    return values.min(axis=1).astype("<u4").tobytes()


def phash(png_path: str) -> str:
    """The 64-bit perceptual hash of a thumbnail, as 16 hex digits."""
    import imagehash
    from PIL import Image

    with Image.open(png_path) as image:
        return str(imagehash.phash(image))


def jaccard(first: bytes | None, second: bytes | None) -> float:
    if first is None or second is None:
        return 0.0
    a = np.frombuffer(first, dtype="<u4")
    b = np.frombuffer(second, dtype="<u4")
    return float((a == b).mean())


def hamming(first: str | None, second: str | None) -> int:
    if not first or not second:
        return 64
    return (int(first, 16) ^ int(second, 16)).bit_count()


def _key(*parts: object) -> int:
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return struct.unpack("<q", digest)[0]  # a signed 64-bit key (a BIGINT column)


def bucket_keys(phash_hex: str | None, minhash_bytes: bytes | None) -> list[int]:
    keys = []
    if minhash_bytes is not None:
        values = np.frombuffer(minhash_bytes, dtype="<u4")
        keys += [_key("m", band, values[band * ROWS:(band + 1) * ROWS].tobytes()) for band in range(BANDS)]
    if phash_hex:
        keys += [_key("p", band, phash_hex[band * 4:(band + 1) * 4]) for band in range(PHASH_BANDS)]
    return keys


@dataclass(frozen=True)
class Print:
    """What grouping compares: a slide's fingerprints and its words."""

    phash: str | None
    minhash: bytes | None
    text: str

    @property
    def little_text(self) -> bool:
        return len(shingles(self.text)) < MIN_SHINGLES

    @property
    def short_text(self) -> bool:
        return len(shingles(self.text)) < SHORT_TEXT


def same_slide(first: Print, second: Print) -> bool:
    """Identical or near-identical: nearly the same words (enough of them), or similar words and a
    similar look; slides with little text: the same words and nearly the same look."""
    if first.little_text or second.little_text:
        return words(first.text) == words(second.text) and hamming(first.phash, second.phash) <= SAME_LOOK
    similarity = jaccard(first.minhash, second.minhash)
    looks_alike = hamming(first.phash, second.phash) <= SIMILAR_LOOK
    if similarity >= SAME_TEXT and not (first.short_text or second.short_text):
        return True  # nearly the same words, and enough of them: a restyled copy is still the slide
    return similarity >= SIMILAR_TEXT and looks_alike
