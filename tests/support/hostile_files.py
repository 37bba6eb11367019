"""Hostile files for tests: a password-protected PDF, a ZIP (Office) decompression bomb
and a PNG pixel bomb, each real and small on disk.

The encrypted PDF uses the PDF standard security handler (RC4, 40-bit, revision 2),
so it needs no extra package.
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib

from assets.sample_files import make_pdf

_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def _rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


class _StandardSecurity:
    """The standard security handler, revision 2, for one file ID (a `PdfEncryption`)."""

    def __init__(self, file_id: bytes, user_password: str, owner_password: str) -> None:
        permissions = -4
        owner_key = hashlib.md5((owner_password.encode("latin-1") + _PAD)[:32]).digest()[:5]
        owner_entry = _rc4(owner_key, (user_password.encode("latin-1") + _PAD)[:32])
        self.key = hashlib.md5((user_password.encode("latin-1") + _PAD)[:32] + owner_entry
                               + struct.pack("<i", permissions) + file_id).digest()[:5]
        user_entry = _rc4(self.key, _PAD)
        self.dictionary = (b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <"
                           + owner_entry.hex().encode() + b"> /U <" + user_entry.hex().encode()
                           + b"> >>")

    def crypt(self, number: int, data: bytes) -> bytes:
        object_key = hashlib.md5(self.key + struct.pack("<I", number)[:3] + b"\x00\x00").digest()
        return _rc4(object_key[: len(self.key) + 5], data)


def make_encrypted_pdf(path: str, pages: list[dict], *, user_password: str,
                       owner_password: str = "owner", title: str | None = None) -> str:
    """`make_pdf`'s PDF, opened only with `user_password` (or `owner_password`)."""
    return make_pdf(path, pages, title=title, encryption=lambda file_id: _StandardSecurity(
        file_id, user_password, owner_password))


def make_zip_bomb(path: str, *, member: str = "word/document.xml", size: int = 1100 * 2**20) -> str:
    """A ZIP whose one member inflates to `size` bytes of zeros (default 1.1 GB), in about 1 MB.

    Written with a streamed compressor, so making it costs seconds and no memory.
    """
    chunk = b"\x00" * (1 << 20)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://'
                         'schemas.openxmlformats.org/package/2006/content-types"/>')
        with archive.open(member, "w", force_zip64=True) as handle:
            for _ in range(size // len(chunk)):
                handle.write(chunk)
    return path


def make_png_bomb(path: str, width: int = 40_000, height: int = 40_000) -> str:
    """A valid 1-bit PNG of width x height white pixels, a few hundred KB on disk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + b"\xff" * ((width + 7) // 8)
    compressor = zlib.compressobj(9)
    block = row * max(1, (1 << 20) // len(row))
    rows_per_block = len(block) // len(row)
    data = bytearray()
    written = 0
    while written < height:
        count = min(rows_per_block, height - written)
        data += compressor.compress(block if count == rows_per_block else row * count)
        written += count
    data += compressor.flush()
    with open(path, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)))
        handle.write(chunk(b"IDAT", bytes(data)))
        handle.write(chunk(b"IEND", b""))
    return path
