"""File kinds come from the bytes, not the name."""

from __future__ import annotations

import zipfile

import pytest

from assets import sample_files
from assets.inspect import FileKind, category, describe_mismatch, mime_for, sniff
from tests.support import images


@pytest.fixture
def files(tmp_path):
    made = {
        "pdf": sample_files.make_pdf(str(tmp_path / "a.pdf"), [{"title": "T", "lines": ["x"]}]),
        "pptx": sample_files.make_pptx(str(tmp_path / "a.pptx"), [{"title": "T", "bullets": ["b"]}]),
        "docx": sample_files.make_docx(str(tmp_path / "a.docx"), "T", ["p"]),
        "xlsx": sample_files.make_xlsx(str(tmp_path / "a.xlsx"), {"S": [["a", 1]]}),
        "png": images.make_png(str(tmp_path / "a.png"), 20, 10),
    }
    (tmp_path / "empty.bin").write_bytes(b"")
    made["empty"] = str(tmp_path / "empty.bin")
    (tmp_path / "a.txt").write_text("hello")
    made["other"] = str(tmp_path / "a.txt")
    with zipfile.ZipFile(tmp_path / "plain.zip", "w") as archive:
        archive.writestr("readme.txt", "hi")
    made["zip"] = str(tmp_path / "plain.zip")
    (tmp_path / "a.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
    made["mp4"] = str(tmp_path / "a.mp4")
    (tmp_path / "a.mov").write_bytes(b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ")
    made["mov"] = str(tmp_path / "a.mov")
    (tmp_path / "a.gif").write_bytes(b"GIF89a" + b"\x00" * 20)
    made["gif"] = str(tmp_path / "a.gif")
    (tmp_path / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 20)
    made["jpeg"] = str(tmp_path / "a.jpg")
    (tmp_path / "a.webp").write_bytes(b"RIFF\x10\x00\x00\x00WEBPVP8 ")
    made["webp"] = str(tmp_path / "a.webp")
    (tmp_path / "old.ppt").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    made["ole"] = str(tmp_path / "old.ppt")
    return made


def test_sniff_tells_every_kind_apart(files):
    for expected, path in files.items():
        assert sniff(path) == FileKind(expected), path


def test_ooxml_kinds_ignore_the_name(tmp_path, files):
    renamed = tmp_path / "deck.zip"
    renamed.write_bytes(open(files["pptx"], "rb").read())
    assert sniff(renamed) is FileKind.PPTX


def test_corrupt_zip_is_a_zip(tmp_path):
    broken = tmp_path / "broken.pptx"
    broken.write_bytes(b"PK\x03\x04" + b"\x13" * 500)
    assert sniff(broken) is FileKind.ZIP


def test_mime_and_category():
    assert mime_for(FileKind.PDF) == "application/pdf"
    assert mime_for("pptx").endswith("presentationml.presentation")
    assert category(FileKind.PNG) == "image"
    assert category(FileKind.MOV) == "video"
    assert category(FileKind.ZIP) == "other"
    assert category(FileKind.EMPTY) == "empty"


def test_describe_mismatch():
    assert describe_mismatch(FileKind.PDF, "deck.pdf") is None
    assert describe_mismatch(FileKind.PDF, "notes.unknownext") is None
    assert describe_mismatch(FileKind.MOV, "clip.mp4") is None
    reason = describe_mismatch(FileKind.PDF, "Q3 deck.pptx")
    assert "PDF" in reason and ".pptx" in reason
    assert "password" in describe_mismatch(FileKind.OLE, "locked.docx")
