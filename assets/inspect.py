"""What a file really is, from its bytes rather than its name."""

from __future__ import annotations

import os
import zipfile
from enum import StrEnum


class FileKind(StrEnum):
    PDF = "pdf"
    PPTX = "pptx"
    DOCX = "docx"
    XLSX = "xlsx"
    PNG = "png"
    JPEG = "jpeg"
    GIF = "gif"
    WEBP = "webp"
    MP4 = "mp4"
    MOV = "mov"
    ZIP = "zip"
    # An OLE2 compound file: a legacy .ppt/.doc/.xls, or a password-protected OOXML file.
    OLE = "ole"
    EMPTY = "empty"
    OTHER = "other"


IMAGE_KINDS = frozenset({FileKind.PNG, FileKind.JPEG, FileKind.GIF, FileKind.WEBP})
VIDEO_KINDS = frozenset({FileKind.MP4, FileKind.MOV})
OFFICE_KINDS = frozenset({FileKind.PPTX, FileKind.DOCX, FileKind.XLSX})

_MIME = {
    FileKind.PDF: "application/pdf",
    FileKind.PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    FileKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileKind.PNG: "image/png",
    FileKind.JPEG: "image/jpeg",
    FileKind.GIF: "image/gif",
    FileKind.WEBP: "image/webp",
    FileKind.MP4: "video/mp4",
    FileKind.MOV: "video/quicktime",
    FileKind.ZIP: "application/zip",
    FileKind.OLE: "application/x-ole-storage",
    FileKind.EMPTY: "application/octet-stream",
    FileKind.OTHER: "application/octet-stream",
}

_LABEL = {
    FileKind.PDF: "a PDF document",
    FileKind.PPTX: "a PowerPoint presentation (PPTX)",
    FileKind.DOCX: "a Word document (DOCX)",
    FileKind.XLSX: "an Excel workbook (XLSX)",
    FileKind.PNG: "a PNG image",
    FileKind.JPEG: "a JPEG image",
    FileKind.GIF: "a GIF image",
    FileKind.WEBP: "a WebP image",
    FileKind.MP4: "an MP4 video",
    FileKind.MOV: "a QuickTime video",
    FileKind.ZIP: "a ZIP archive",
    FileKind.OLE: "a legacy or password-protected Office file",
    FileKind.EMPTY: "an empty file",
    FileKind.OTHER: "an unrecognised file type",
}

# What each extension promises; a set because some containers legitimately overlap.
_EXTENSIONS: dict[str, frozenset[FileKind]] = {
    ".pdf": frozenset({FileKind.PDF}),
    ".pptx": frozenset({FileKind.PPTX}),
    ".potx": frozenset({FileKind.PPTX}),
    ".ppsx": frozenset({FileKind.PPTX}),
    ".docx": frozenset({FileKind.DOCX}),
    ".xlsx": frozenset({FileKind.XLSX}),
    ".png": frozenset({FileKind.PNG}),
    ".jpg": frozenset({FileKind.JPEG}),
    ".jpeg": frozenset({FileKind.JPEG}),
    ".gif": frozenset({FileKind.GIF}),
    ".webp": frozenset({FileKind.WEBP}),
    ".mp4": frozenset({FileKind.MP4, FileKind.MOV}),
    ".m4v": frozenset({FileKind.MP4, FileKind.MOV}),
    ".mov": frozenset({FileKind.MOV, FileKind.MP4}),
    ".zip": frozenset({FileKind.ZIP, FileKind.PPTX, FileKind.DOCX, FileKind.XLSX}),
    ".ppt": frozenset({FileKind.OLE}),
    ".doc": frozenset({FileKind.OLE}),
    ".xls": frozenset({FileKind.OLE}),
}

_OOXML_MAIN = (
    (b"presentationml.presentation.main", b"presentationml.slideshow.main",
     b"presentationml.template.main", FileKind.PPTX),
    (b"wordprocessingml.document.main", b"wordprocessingml.template.main", None, FileKind.DOCX),
    (b"spreadsheetml.sheet.main", b"spreadsheetml.template.main", None, FileKind.XLSX),
)
_OOXML_PARTS = (
    ("ppt/presentation.xml", FileKind.PPTX),
    ("word/document.xml", FileKind.DOCX),
    ("xl/workbook.xml", FileKind.XLSX),
)
_CONTENT_TYPES_LIMIT = 1 << 20  # [Content_Types].xml is a few KB in real files


def sniff(path: str | os.PathLike[str]) -> FileKind:
    """The kind of the file at `path`, judged by its leading bytes (and ZIP directory)."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if not head:
        return FileKind.EMPTY
    if b"%PDF-" in head[:1024]:
        return FileKind.PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return FileKind.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileKind.WEBP
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return FileKind.MOV
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"avif"):
            return FileKind.OTHER
        return FileKind.MP4
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return FileKind.OLE
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return _sniff_zip(path)
    return FileKind.OTHER


def _sniff_zip(path: str | os.PathLike[str]) -> FileKind:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                info = archive.getinfo("[Content_Types].xml")
                if info.file_size <= _CONTENT_TYPES_LIMIT:
                    content_types = archive.read(info)
                    for first, second, third, kind in _OOXML_MAIN:
                        if any(m and m in content_types for m in (first, second, third)):
                            return kind
            for part, kind in _OOXML_PARTS:
                if part in names:
                    return kind
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError, RuntimeError):
        return FileKind.ZIP
    return FileKind.ZIP


def mime_for(kind: FileKind | str) -> str:
    """The MIME type to serve a file of this kind with."""
    return _MIME.get(FileKind(kind), "application/octet-stream")


def label_for(kind: FileKind | str) -> str:
    """A phrase naming the kind for people: 'a PDF document'."""
    return _LABEL.get(FileKind(kind), "an unrecognised file type")


def category(kind: FileKind | str) -> str:
    """The coarse kind stored on a version: pdf, pptx, docx, xlsx, image, video, other, empty."""
    kind = FileKind(kind)
    if kind in (FileKind.PDF, FileKind.PPTX, FileKind.DOCX, FileKind.XLSX, FileKind.EMPTY):
        return kind.value
    if kind in IMAGE_KINDS:
        return "image"
    if kind in VIDEO_KINDS:
        return "video"
    return "other"


def claimed_kinds(filename: str) -> frozenset[FileKind] | None:
    """The kinds the file's extension promises, or None for extensions we know nothing about."""
    return _EXTENSIONS.get(os.path.splitext(filename or "")[1].lower())


def describe_mismatch(kind: FileKind | str, filename: str) -> str | None:
    """A sentence for people when the name promises one kind and the bytes are another."""
    kind = FileKind(kind)
    claimed = claimed_kinds(filename)
    if claimed is None or kind in claimed or kind is FileKind.EMPTY:
        return None
    extension = os.path.splitext(filename)[1].lower()
    shown = os.path.basename(filename)
    if kind is FileKind.OLE and claimed & OFFICE_KINDS:
        return (f"{shown!r} is named {extension} but is a password-protected or legacy "
                f"Office file; save it without a password in the {extension} format.")
    if kind is FileKind.ZIP and claimed & OFFICE_KINDS:
        return (f"{shown!r} is named {extension} but is a ZIP archive without the parts "
                f"of an Office file; it may be damaged.")
    if kind is FileKind.OTHER:
        return (f"{shown!r} is named {extension} but its contents are not {label_for(min(claimed))}; "
                f"it may be damaged.")
    return (f"{shown!r} is named {extension} but its contents are {label_for(kind)}; "
            f"it was processed as {label_for(kind)}.")
