"""Page images from PDF (pypdfium2), images (Pillow) and office files (LibreOffice)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from assets import demo_content, office, sample_files, thumbnails
from assets.processing import process_file
from tests.assets.processes import is_gone
from tests.support import hostile_files, images
from tests.tooling import require_executable

LIBREOFFICE_HINT = "apt-get install -y libreoffice-impress-nogui"


def test_pdf_pages_render_480_wide(tmp_path):
    pdf = sample_files.make_pdf(str(tmp_path / "a.pdf"), [{"title": f"Page {n}", "lines": ["x"]}
                                                           for n in range(3)])
    pngs = thumbnails.render_pdf_pages(pdf, str(tmp_path / "out"))
    assert sorted(pngs) == [1, 2, 3]
    with Image.open(pngs[1]) as image:
        assert image.width == 480 and 600 < image.height < 700
    cover = thumbnails.make_cover(pngs, str(tmp_path / "out"))
    assert open(cover, "rb").read() == open(pngs[1], "rb").read()


def test_image_thumbnail(tmp_path):
    src = images.make_png(str(tmp_path / "big.png"), 1920, 1080)
    out = thumbnails.render_image(src, str(tmp_path / "t.png"))
    with Image.open(out) as image:
        assert image.size == (480, 270)


def test_pixel_bomb_is_refused_before_decoding(tmp_path):
    src = hostile_files.make_png_bomb(str(tmp_path / "bomb.png"), 30_000, 30_000)
    with pytest.raises(thumbnails.ThumbnailFailed, match="too large"):
        thumbnails.render_image(src, str(tmp_path / "t.png"))


def test_pptx_and_docx_render_through_libreoffice(tmp_path):
    require_executable("soffice", LIBREOFFICE_HINT)
    deck = sample_files.make_pptx(str(tmp_path / "d.pptx"), [
        {"title": "One", "bullets": ["a"]}, {"title": "Two", "bullets": ["b"], "image": True}])
    pngs = thumbnails.render_office(deck, str(tmp_path / "deck"), kind="pptx", timeout=120,
                                    soffice=None)
    assert sorted(pngs) == [1, 2]
    with Image.open(pngs[1]) as image:
        assert image.width == 480 and 268 <= image.height <= 272  # 16:9
    doc = sample_files.make_docx(str(tmp_path / "s.docx"), "Datasheet", ["a", sample_files.PAGE_BREAK, "b"])
    pngs = thumbnails.render_office(doc, str(tmp_path / "doc"), kind="docx")
    assert sorted(pngs) == [1, 2]
    assert not os.path.exists(tmp_path / "deck" / "_office")


def test_warm_profile_is_reused(tmp_path, monkeypatch):
    """The first conversion creates the slot's profile; the next one runs in that same one.

    (How much the warm profile saves is measured in bench/bench_processing.py.)
    """
    real = require_executable("soffice", LIBREOFFICE_HINT)
    argv_log = tmp_path / "argv.log"
    soffice = _fake_soffice(tmp_path, f'printf "%s\\n" "$@" >> {argv_log}\nexec {real} "$@"')
    root = tmp_path / "profiles"
    monkeypatch.setenv("COLLATERAL_OFFICE_PROFILES", str(root))
    profile = office.profile_dir(str(root), 0)
    deck = sample_files.make_pptx(str(tmp_path / "d.pptx"), [{"title": "One", "bullets": ["a"]}])
    assert not os.path.exists(profile)

    office.convert_to_pdf(deck, str(tmp_path / "a"), slots=1, soffice=soffice)
    user = os.path.join(profile, "user")
    assert os.path.isdir(user), "LibreOffice made its profile in the slot"
    identity = os.stat(user).st_ino
    marker = os.path.join(user, "left-by-the-test")
    open(marker, "w").close()

    pdf = office.convert_to_pdf(deck, str(tmp_path / "b"), slots=1, soffice=soffice)
    assert pdf.endswith("d.pdf") and os.path.getsize(pdf) > 0
    installs = [line for line in argv_log.read_text().splitlines()
                if line.startswith("-env:UserInstallation=")]
    assert installs == [f"-env:UserInstallation={Path(profile).absolute().as_uri()}"] * 2
    assert os.stat(user).st_ino == identity and os.path.exists(marker), \
        "the second conversion kept the first one's profile"
    assert sorted(os.listdir(root)) == ["slot-0", "slot-0.lock"]


def _fake_soffice(tmp_path, body: str) -> str:
    script = tmp_path / "soffice"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_hanging_libreoffice_is_killed(tmp_path):
    pidfile = tmp_path / "pids"
    # soffice and a helper it started (not holding soffice's output open, so a helper
    # left alive shows here, not as a hang); both outlive any deadline unless killed.
    fake = _fake_soffice(tmp_path, f"echo $$ > {pidfile}\nsleep 600 >/dev/null 2>&1 &\n"
                                   f"echo $! >> {pidfile}\nwait")
    deck = sample_files.make_pptx(str(tmp_path / "d.pptx"), [{"title": "One"}])
    with pytest.raises(office.ConversionTimeout, match="did not finish within 3 s"):
        office.convert_to_pdf(deck, str(tmp_path / "out"), timeout=3, soffice=fake,
                              profile_root=str(tmp_path / "profiles"))
    pids = [int(line) for line in pidfile.read_text().split()]
    assert len(pids) == 2
    assert all(is_gone(pid) for pid in pids), "the whole process group was killed"


def test_failing_libreoffice_gives_a_reason(tmp_path):
    fake = _fake_soffice(tmp_path, "echo 'Error: source file could not be loaded'; exit 0")
    deck = sample_files.make_pptx(str(tmp_path / "d.pptx"), [{"title": "One"}])
    with pytest.raises(office.ConversionFailed, match="could not be loaded"):
        office.convert_to_pdf(deck, str(tmp_path / "out"), soffice=fake,
                              profile_root=str(tmp_path / "profiles"))


def test_missing_libreoffice_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("COLLATERAL_SOFFICE", str(tmp_path / "nope"))
    with pytest.raises(office.OfficeUnavailable, match="apt-get install"):
        office.find_soffice()


def test_process_file_renders_cover_and_pages(tmp_path):
    require_executable("soffice", LIBREOFFICE_HINT)
    item = [i for i in demo_content.demo_library() if i.filename.endswith(".pptx")][0]
    path = item.write(str(tmp_path / item.filename))
    progress = []
    result = process_file(path, filename=item.filename, work_dir=str(tmp_path / "work"),
                          on_progress=lambda *a: progress.append(a))
    assert result.status == "ready", result
    assert result.kind == "pptx"
    assert sorted(result.page_pngs) == list(range(1, result.page_count + 1))
    assert result.cover_png and os.path.exists(result.cover_png)
    assert result.preview_pdf == str(tmp_path / "work" / "preview.pdf")
    assert len(_pdf_texts(result.preview_pdf)) == result.page_count
    stages = [p[0] for p in progress]
    assert {"inspecting", "extracting", "converting", "rendering"} <= set(stages)
    assert ("rendering", result.page_count, result.page_count) in progress


# --- workbooks: pages are sheets, thumbnail N is the first printed page of sheet N ----

CALC_HINT = "apt-get install -y libreoffice-calc-nogui"


def _pdf_texts(pdf_path: str) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_path)
    try:
        texts = []
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            texts.append(textpage.get_text_bounded())
            textpage.close()
            page.close()
        return texts
    finally:
        pdf.close()


@pytest.fixture
def long_workbook(tmp_path):
    """Sheet 1 prints to several pages, sheet 2 prints nothing, sheet 3 to one page."""
    return sample_files.make_xlsx(str(tmp_path / "long.xlsx"), {
        "Price list": [["SKU", "Price", "Description"]] +
                      [[f"SKU-{n}", n, "per-seat pricing " * 3] for n in range(150)],
        "Blank": [],
        "Controls": [["Control", "Status"], ["ZQX", "Type II"]],
    })


def test_xlsx_gets_cover_sheet_thumbnails_and_preview_pdf(tmp_path):
    require_executable("soffice", CALC_HINT)
    path = sample_files.make_xlsx(str(tmp_path / "book.xlsx"), {
        "Pricing": [["Tier", "Price"], ["Pro", 7], ["Team", 12]],
        "Security": [["Control", "Status"], ["SOC 2", "Type II"]],
    })
    progress = []
    work = tmp_path / "work"
    result = process_file(path, filename="book.xlsx", work_dir=str(work),
                          on_progress=lambda *a: progress.append(a))
    assert result.status == "ready", result
    assert result.kind == "xlsx" and result.page_count == 2
    assert [page.title for page in result.pages] == ["Pricing", "Security"]
    assert sorted(result.page_pngs) == [1, 2]
    for png in result.page_pngs.values():
        with Image.open(png) as image:
            assert image.format == "PNG"
            assert image.width == thumbnails.THUMBNAIL_WIDTH
            assert image.height > image.width  # a printed (portrait) page
            assert image.convert("L").getextrema()[0] < 128  # something is printed on it
    assert result.cover_png == str(work / "cover.png")
    assert open(result.cover_png, "rb").read() == open(result.page_pngs[1], "rb").read()
    assert result.preview_pdf == str(work / "preview.pdf")
    texts = _pdf_texts(result.preview_pdf)
    assert len(texts) == 2 and "Pro" in texts[0] and "SOC 2" in texts[1]
    assert {"converting", "rendering"} <= {stage for stage, _, _ in progress}
    assert not os.path.exists(work / "_office")


def test_xlsx_thumbnail_is_the_first_printed_page_of_its_sheet(tmp_path, long_workbook):
    require_executable("soffice", CALC_HINT)
    out = tmp_path / "out"
    out.mkdir()
    preview = str(out / "preview.pdf")
    kept = []
    pngs = thumbnails.render_office(long_workbook, str(out), kind="xlsx", preview_pdf=preview,
                                    on_pdf=kept.append)
    assert kept == [preview]
    texts = _pdf_texts(preview)
    starts = thumbnails.sheet_first_pages(preview, ["Price list", "Blank", "Controls"])
    assert starts[1] == 1 and 2 not in starts  # an empty sheet prints nothing
    assert starts[3] > 2 and "ZQX" in texts[starts[3] - 1]
    assert "ZQX" not in "".join(texts[:starts[3] - 1])
    assert sorted(pngs) == [1, 3]  # sheet numbers, as in the extracted pages
    # thumbnail 3 is exactly the picture of the page sheet 3 starts on
    again = thumbnails.render_pdf_pages(preview, str(tmp_path / "again"),
                                        numbers={3: starts[3]})
    assert open(again[3], "rb").read() == open(pngs[3], "rb").read()


def test_xlsx_printed_pages_are_bounded(tmp_path, long_workbook):
    require_executable("soffice", CALC_HINT)
    out = tmp_path / "out"
    out.mkdir()
    warnings = []
    pngs = thumbnails.render_office(long_workbook, str(out), kind="xlsx", max_pages=2,
                                    preview_pdf=str(out / "preview.pdf"),
                                    on_warning=warnings.append)
    assert len(_pdf_texts(str(out / "preview.pdf"))) == 2  # LibreOffice stopped writing
    assert sorted(pngs) == [1]  # sheet 3 starts after the bound
    assert warnings == ["Only the first 2 printed pages were converted; "
                        "sheets that start later have no thumbnail."]


def test_xlsx_without_sheet_marks_still_gets_a_cover(tmp_path, monkeypatch):
    require_executable("soffice", CALC_HINT)
    # A LibreOffice whose PDF has no sheet bookmarks, simulated in the processing child.
    sitecustomize = tmp_path / "nomarks" / "sitecustomize.py"
    sitecustomize.parent.mkdir()
    sitecustomize.write_text("import assets.thumbnails as th\n"
                             "th.sheet_first_pages = lambda *a, **k: {}\n")
    monkeypatch.setenv("PYTHONPATH", str(sitecustomize.parent))
    path = sample_files.make_xlsx(str(tmp_path / "book.xlsx"), {"A": [["a"]], "B": [["b"]]})
    result = process_file(path, filename="book.xlsx", work_dir=str(tmp_path / "work"))
    assert result.status == "ready"
    assert result.page_pngs == {}
    assert any("where each sheet starts" in warning for warning in result.warnings)
    with Image.open(result.cover_png) as image:
        assert image.width == thumbnails.THUMBNAIL_WIDTH
    assert result.preview_pdf and os.path.exists(result.preview_pdf)


def test_pdf_target_names_the_export_filter_and_page_range():
    assert office.pdf_target("xlsx") == "pdf"
    assert office.pdf_target("xlsx", 1000) == \
        'pdf:calc_pdf_Export:{"PageRange":{"type":"string","value":"1-1000"}}'
    assert office.pdf_target("pptx", 5).startswith("pdf:impress_pdf_Export:")
    # Hidden slides are exported, so page N of a deck's PDF is slide N.
    assert office.pdf_target("pptx") == \
        'pdf:impress_pdf_Export:{"ExportHiddenSlides":{"type":"boolean","value":"true"}}'
    assert office.pdf_target("docx", 5).startswith("pdf:writer_pdf_Export:")
    assert office.pdf_target("bin", 5) == "pdf"
