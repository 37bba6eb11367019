"""Page images from PDF (pypdfium2), images (Pillow) and office files (LibreOffice)."""

from __future__ import annotations

import os
import time

import pytest
from PIL import Image

from assets import office, samples, thumbnails
from assets.processing import process_file
from tests.tooling import require_executable

LIBREOFFICE_HINT = "apt-get install -y libreoffice-impress-nogui"


def test_pdf_pages_render_480_wide(tmp_path):
    pdf = samples.make_pdf(str(tmp_path / "a.pdf"), [{"title": f"Page {n}", "lines": ["x"]}
                                                      for n in range(3)])
    pngs = thumbnails.render_pdf_pages(pdf, str(tmp_path / "out"))
    assert sorted(pngs) == [1, 2, 3]
    with Image.open(pngs[1]) as image:
        assert image.width == 480 and 600 < image.height < 700
    cover = thumbnails.make_cover(pngs, str(tmp_path / "out"))
    assert open(cover, "rb").read() == open(pngs[1], "rb").read()


def test_image_thumbnail(tmp_path):
    src = samples.make_png(str(tmp_path / "big.png"), 1920, 1080)
    out = thumbnails.render_image(src, str(tmp_path / "t.png"))
    with Image.open(out) as image:
        assert image.size == (480, 270)


def test_pixel_bomb_is_refused_before_decoding(tmp_path):
    src = samples.make_png_bomb(str(tmp_path / "bomb.png"), 30_000, 30_000)
    with pytest.raises(thumbnails.ThumbnailFailed, match="too large"):
        thumbnails.render_image(src, str(tmp_path / "t.png"))


def test_pptx_and_docx_render_through_libreoffice(tmp_path):
    require_executable("soffice", LIBREOFFICE_HINT)
    deck = samples.make_pptx(str(tmp_path / "d.pptx"), [
        {"title": "One", "bullets": ["a"]}, {"title": "Two", "bullets": ["b"], "image": True}])
    pngs = thumbnails.render_office(deck, str(tmp_path / "deck"), kind="pptx", timeout=120,
                                    soffice=None)
    assert sorted(pngs) == [1, 2]
    with Image.open(pngs[1]) as image:
        assert image.width == 480 and 268 <= image.height <= 272  # 16:9
    doc = samples.make_docx(str(tmp_path / "s.docx"), "Datasheet", ["a", samples.PAGE_BREAK, "b"])
    pngs = thumbnails.render_office(doc, str(tmp_path / "doc"), kind="docx")
    assert sorted(pngs) == [1, 2]
    assert not os.path.exists(tmp_path / "deck" / "_office")


def test_warm_profile_is_reused(tmp_path, monkeypatch):
    require_executable("soffice", LIBREOFFICE_HINT)
    monkeypatch.setenv("COLLATERAL_OFFICE_PROFILES", str(tmp_path / "profiles"))
    deck = samples.make_pptx(str(tmp_path / "d.pptx"), [{"title": "One", "bullets": ["a"]}])
    started = time.monotonic()
    office.convert_to_pdf(deck, str(tmp_path / "a"), slots=1)
    cold = time.monotonic() - started
    assert os.path.isdir(tmp_path / "profiles" / "slot-0" / "user")
    started = time.monotonic()
    pdf = office.convert_to_pdf(deck, str(tmp_path / "b"), slots=1)
    warm = time.monotonic() - started
    assert pdf.endswith("d.pdf") and os.path.getsize(pdf) > 0
    assert warm < cold


def _fake_soffice(tmp_path, body: str) -> str:
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_hanging_libreoffice_is_killed(tmp_path):
    pidfile = tmp_path / "pid"
    fake = _fake_soffice(tmp_path, f"echo $$ > {pidfile}\nsleep 300 &\nwait")
    deck = samples.make_pptx(str(tmp_path / "d.pptx"), [{"title": "One"}])
    started = time.monotonic()
    with pytest.raises(office.ConversionTimeout):
        office.convert_to_pdf(deck, str(tmp_path / "out"), timeout=1.5, soffice=fake,
                              profile_root=str(tmp_path / "profiles"))
    assert time.monotonic() - started < 6
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_failing_libreoffice_gives_a_reason(tmp_path):
    fake = _fake_soffice(tmp_path, "echo 'Error: source file could not be loaded'; exit 0")
    deck = samples.make_pptx(str(tmp_path / "d.pptx"), [{"title": "One"}])
    with pytest.raises(office.ConversionFailed, match="could not be loaded"):
        office.convert_to_pdf(deck, str(tmp_path / "out"), soffice=fake,
                              profile_root=str(tmp_path / "profiles"))


def test_missing_libreoffice_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("COLLATERAL_SOFFICE", str(tmp_path / "nope"))
    with pytest.raises(office.OfficeUnavailable, match="apt-get install"):
        office.find_soffice()


def test_process_file_renders_cover_and_pages(tmp_path):
    require_executable("soffice", LIBREOFFICE_HINT)
    item = [i for i in samples.demo_library() if i.filename.endswith(".pptx")][0]
    path = item.write(str(tmp_path / item.filename))
    progress = []
    result = process_file(path, filename=item.filename, work_dir=str(tmp_path / "work"),
                          on_progress=lambda *a: progress.append(a))
    assert result.status == "ready", result
    assert result.kind == "pptx"
    assert sorted(result.page_pngs) == list(range(1, result.page_count + 1))
    assert result.cover_png and os.path.exists(result.cover_png)
    stages = [p[0] for p in progress]
    assert {"inspecting", "extracting", "converting", "rendering"} <= set(stages)
    assert ("rendering", result.page_count, result.page_count) in progress
