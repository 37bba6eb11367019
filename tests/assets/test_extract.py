"""Text per page from real generated PDF, PPTX, DOCX and XLSX files."""

from __future__ import annotations

import zipfile

import pytest

from assets import extract as ex
from assets import sample_files
from tests.support import hostile_files, images


def test_pdf_pages_titles_and_text(tmp_path):
    path = sample_files.make_pdf(str(tmp_path / "c.pdf"), [
        {"title": "Case study: Mercy", "lines": ["Onboarding cut by 60%", "ROI (310%)"]},
        {"title": "Results", "lines": ["Security review passed"]},
    ])
    result = ex.extract_pdf(path)
    assert result.page_count == 2
    assert [p.number for p in result.pages] == [1, 2]
    assert result.pages[0].title == "Case study: Mercy"
    assert "ROI (310%)" in result.pages[0].text
    assert "Security review passed" in result.pages[1].text


def test_encrypted_pdf_fails_with_reason_and_opens_with_password(tmp_path):
    path = hostile_files.make_encrypted_pdf(str(tmp_path / "locked.pdf"),
                                            [{"title": "Pricing", "lines": ["x"]}],
                                            user_password="secret")
    with pytest.raises(ex.ExtractionFailed, match="password-protected"):
        ex.extract_pdf(path)
    assert "Pricing" in ex.extract_pdf(path, password="secret").pages[0].text


def test_pptx_titles_body_tables_groups_and_notes(tmp_path):
    path = sample_files.make_pptx(str(tmp_path / "d.pptx"), [
        {"title": "Pricing overview", "bullets": ["Per-bed pricing", "Volume tiers"],
         "notes": "Anchor on Enterprise", "table": [["Tier", "Price"], ["Essentials", "$9"]],
         "group": ["240% ROI", "9-month payback"], "image": True},
        {"title": "No notes here", "bullets": ["Onboarding in 30 days"]},
    ])
    result = ex.extract_pptx(path)
    first, second = result.pages
    assert first.title == "Pricing overview"
    assert "Volume tiers" in first.text and "Essentials\t$9" in first.text
    assert "240% ROI" in first.text and "9-month payback" in first.text
    assert first.notes == "Anchor on Enterprise"
    assert second.notes == ""


def test_pptx_extraction_creates_no_notes_slides(tmp_path):
    from pptx import Presentation

    path = sample_files.make_pptx(str(tmp_path / "d.pptx"), [{"title": "A", "bullets": ["b"]}])
    before = zipfile.ZipFile(path).namelist()
    ex.extract_pptx(path)
    assert zipfile.ZipFile(path).namelist() == before
    deck = Presentation(path)
    assert not deck.slides[0].has_notes_slide


def test_docx_pages_tables_headers_footers(tmp_path):
    path = sample_files.make_docx(str(tmp_path / "s.docx"), "Security datasheet",
                                  ["# Certifications", "SOC 2 Type II", sample_files.PAGE_BREAK,
                                   "# Access control", "SSO with SAML"],
                                  table=[["Control", "Status"], ["Backups", "Hourly"]],
                                  header="Confidential header", footer="security@example.com")
    result = ex.extract_docx(path)
    assert result.page_count == 2
    assert result.pages[0].title == "Security datasheet"
    assert "SOC 2 Type II" in result.pages[0].text
    assert "Confidential header" in result.pages[0].text
    assert "security@example.com" in result.pages[0].text
    assert result.pages[1].title == "Access control"
    assert "Backups\tHourly" in result.pages[1].text


def test_docx_without_breaks_is_split_into_bounded_pages(tmp_path):
    path = sample_files.make_docx(str(tmp_path / "long.docx"), "Long",
                                  [f"Paragraph {n}" for n in range(150)])
    result = ex.extract_docx(path)
    assert result.page_count == 3
    assert "Paragraph 149" in result.pages[-1].text


def test_xlsx_one_page_per_sheet_bounded(tmp_path):
    rows = [["SKU", "Price"]] + [[f"SKU-{n}", n] for n in range(3000)]
    path = sample_files.make_xlsx(str(tmp_path / "p.xlsx"), {"Price list": rows, "Notes": [["hi"]]})
    result = ex.extract_xlsx(path)
    assert result.page_count == 2
    assert result.pages[0].title == "Price list"
    assert "SKU-1998\t1998" in result.pages[0].text
    assert "SKU-2500" not in result.pages[0].text
    assert result.warnings


def test_image_and_video_metadata(tmp_path):
    image = ex.extract_image(images.make_png(str(tmp_path / "a.png"), 64, 32))
    assert image.metadata["width"] == 64 and image.metadata["height"] == 32
    assert image.page_count == 1
    mvhd = (b"\x00\x00\x00\x6cmvhd" + b"\x00" * 4 + b"\x00" * 8
            + (1000).to_bytes(4, "big") + (12_500).to_bytes(4, "big") + b"\x00" * 80)
    moov = (8 + len(mvhd)).to_bytes(4, "big") + b"moov" + mvhd
    ftyp = b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00"
    (tmp_path / "v.mp4").write_bytes(ftyp + moov)
    video = ex.extract_video(str(tmp_path / "v.mp4"))
    assert video.metadata["duration_seconds"] == 12.5
    assert video.page_count == 0


def test_text_caps(tmp_path, monkeypatch):
    monkeypatch.setattr(ex, "PAGE_TEXT_LIMIT", 50)
    path = sample_files.make_pdf(str(tmp_path / "c.pdf"), [{"title": "T", "lines": ["word " * 40]}])
    result = ex.extract_pdf(path)
    assert len(result.pages[0].text) <= 50
    assert "truncated" in result.warnings[0]
