"""The demo library writes real files that the extractors read back."""

from __future__ import annotations

from assets import demo_content, sample_files
from assets import extract as ex
from assets.inspect import category, sniff

CONTENT_TYPES = {"deck", "case_study", "datasheet", "battlecard", "one_pager", "price_sheet"}


def test_demo_library_items_are_complete_and_readable(tmp_path):
    items = demo_content.demo_library()
    assert 6 <= len(items) <= 12
    assert {item.content_type for item in items} == CONTENT_TYPES
    assert len({item.title for item in items}) == len(items)
    kinds = set()
    for item in items:
        path = item.write(str(tmp_path / item.filename))
        kind = sniff(path)
        kinds.add(category(kind))
        assert item.filename.endswith("." + kind.value)
        result = ex.extract(path, kind)
        assert result.page_count >= 1
        assert result.pages[0].text
        assert item.tags and item.product and item.stage and item.region and item.persona
    assert kinds == {"pptx", "pdf", "docx", "xlsx"}


def test_demo_vocabulary_is_searchable(tmp_path):
    text = ""
    for item in demo_content.demo_library():
        path = item.write(str(tmp_path / item.filename))
        text += " ".join(p.text + " " + p.notes for p in ex.extract(path, sniff(path)).pages)
    for word in ("pricing", "healthcare", "security", "onboarding", "ROI"):
        assert word.lower() in text.lower()


def test_files_are_deterministic(tmp_path):
    first = sample_files.make_pdf(str(tmp_path / "a.pdf"), [{"title": "T", "lines": ["x"]}])
    second = sample_files.make_pdf(str(tmp_path / "b.pdf"), [{"title": "T", "lines": ["x"]}])
    assert open(first, "rb").read() == open(second, "rb").read()
