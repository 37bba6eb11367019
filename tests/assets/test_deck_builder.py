"""Deck assembly: the right slides in the right order, each looking exactly
as it did, in a package PowerPoint opens without a repair prompt."""

from __future__ import annotations

import os
import zipfile

import pypdfium2
import pytest
from PIL import Image, ImageChops, ImageStat
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE as RT

from assets.deck_builder import DeckAssemblyError, SlideRef, build_deck
from assets.office import convert_to_pdf
from tests.assets.deck_fixtures import make_blue_deck, make_green_deck, make_square_deck
from tests.support.pptx_package import validate_package
from tests.tooling import require_executable

# Mean absolute difference per pixel channel, out of 255, between a slide
# rendered from its source deck and from the assembled deck.
PIXEL_BOUND = 2.0
RENDER_WIDTH = 480


@pytest.fixture(scope="module")
def decks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decks")
    return {
        "blue": make_blue_deck(str(folder / "blue.pptx")),
        "green": make_green_deck(str(folder / "green.pptx")),
        "square": make_square_deck(str(folder / "square.pptx")),
    }


def titles(path: str) -> list[str]:
    return [slide.shapes.title.text for slide in Presentation(path).slides]


def test_slides_in_order_with_notes_and_one_master_per_look(decks, tmp_path):
    out = str(tmp_path / "meeting.pptx")
    build_deck([SlideRef(decks["green"], 2), SlideRef(decks["blue"], 1), SlideRef(decks["green"], 1),
                SlideRef(decks["blue"], 3)], out)
    assert validate_package(out) == []
    assert titles(out) == ["Green 2: video", "Blue 1: picture", "Green 1: group", "Blue 3: table and link"]
    result = Presentation(out)
    notes = [s.notes_slide.notes_text_frame.text if s.has_notes_slide else None for s in result.slides]
    assert notes == [None, "Notes of blue 1", "Notes of green 1", None]
    # The green deck came first: its master is the base; blue's was brought in once.
    assert len(result.slide_masters) == 2
    assert result.slide_width == Presentation(decks["green"]).slide_width
    link = [r for s in result.slides for shape in s.shapes if shape.has_text_frame
            for p in shape.text_frame.paragraphs for r in p.runs if r.hyperlink.address]
    assert link[0].hyperlink.address == "https://example.com/calculator"
    movie = [rel for rel in result.slides[0].part.rels.values() if rel.reltype in (RT.MEDIA, RT.VIDEO)]
    assert movie and all(rel.target_part.blob.startswith(b"\x00\x00\x00\x18ftyp") for rel in movie)


def test_a_slide_hidden_in_its_deck_is_shown_in_the_new_deck(decks, tmp_path):
    source = Presentation(decks["blue"])
    source.slides[1]._element.set("show", "0")  # "Hide slide" in PowerPoint
    hiding = str(tmp_path / "hiding.pptx")
    source.save(hiding)
    out = str(tmp_path / "picked.pptx")
    build_deck([SlideRef(hiding, 1), SlideRef(hiding, 2)], out)
    assert validate_package(out) == []
    assert [slide._element.get("show") for slide in Presentation(out).slides] == [None, None]


def test_each_chart_copy_has_its_own_workbook(decks, tmp_path):
    out = str(tmp_path / "charts.pptx")
    build_deck([SlideRef(decks["blue"], 2), SlideRef(decks["blue"], 2), SlideRef(decks["green"], 3)], out)
    assert validate_package(out) == []
    with zipfile.ZipFile(out) as archive:
        charts = [n for n in archive.namelist() if n.startswith("ppt/charts/chart")]
        workbooks = [n for n in archive.namelist() if n.startswith("ppt/embeddings/")]
    assert len(charts) == 3 and len(workbooks) == 3
    result = Presentation(out)
    values = [list(s.shapes[-1].chart.plots[0].series[0].values) for s in result.slides]
    assert values == [[12.0, 19.0, 27.0], [12.0, 19.0, 27.0], [7.0, 3.0]]


def test_slide_size_follows_the_first_deck_and_sizes_mix(decks, tmp_path):
    out = str(tmp_path / "mixed.pptx")
    build_deck([SlideRef(decks["square"], 1), SlideRef(decks["blue"], 1), SlideRef(decks["square"], 2)], out)
    assert validate_package(out) == []
    result = Presentation(out)
    square = Presentation(decks["square"])
    assert (result.slide_width, result.slide_height) == (square.slide_width, square.slide_height)
    assert titles(out) == ["Square 1", "Blue 1: picture", "Square 2"]
    assert len(result.slide_masters) == 2


def test_bad_input_is_refused_and_leaves_no_file(decks, tmp_path):
    out = tmp_path / "bad.pptx"
    with pytest.raises(DeckAssemblyError, match="Slide 9 does not exist"):
        build_deck([SlideRef(decks["blue"], 1), SlideRef(decks["blue"], 9)], str(out))
    not_a_deck = tmp_path / "fake.pptx"
    not_a_deck.write_bytes(b"%PDF-1.4 not a deck")
    with pytest.raises(DeckAssemblyError, match="not a PowerPoint file"):
        build_deck([SlideRef(str(not_a_deck), 1)], str(out))
    with pytest.raises(DeckAssemblyError, match="not a PowerPoint file"):
        build_deck([SlideRef(decks["blue"], 1), SlideRef(str(not_a_deck), 1)], str(out))
    with pytest.raises(DeckAssemblyError, match="at least one slide"):
        build_deck([], str(out))
    assert not out.exists() and [p for p in tmp_path.iterdir() if p.suffix == ".part"] == []


def test_validate_package_finds_problems(decks, tmp_path):
    broken = tmp_path / "broken.pptx"
    with zipfile.ZipFile(decks["blue"]) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            if item.filename != "ppt/slides/slide2.xml":
                target.writestr(item, source.read(item.filename))
    assert any("missing part ppt/slides/slide2.xml" in p for p in validate_package(str(broken)))


def _render(pdf_path: str) -> list[Image.Image]:
    pdf = pypdfium2.PdfDocument(pdf_path)
    pages = []
    for page in pdf:
        scale = RENDER_WIDTH / page.get_width()
        pages.append(page.render(scale=scale).to_pil().convert("RGB"))
    pdf.close()
    return pages


def _difference(first: Image.Image, second: Image.Image) -> float:
    """Mean absolute difference per channel, 0..255."""
    return sum(ImageStat.Stat(ImageChops.difference(first, second)).mean) / 3


def test_every_slide_looks_as_it_did(decks, tmp_path):
    """Render sources and result with LibreOffice and compare slide by slide."""
    require_executable("soffice", "apt-get install -y libreoffice-impress-nogui")
    chosen = [SlideRef(decks["blue"], 3), SlideRef(decks["green"], 1), SlideRef(decks["blue"], 1),
              SlideRef(decks["green"], 3), SlideRef(decks["blue"], 2), SlideRef(decks["green"], 2)]
    out = str(tmp_path / "look.pptx")
    build_deck(chosen, out)
    rendered = {}
    for name in ("blue", "green"):
        folder = tmp_path / name
        folder.mkdir()
        rendered[decks[name]] = _render(convert_to_pdf(decks[name], str(folder)))
    result_folder = tmp_path / "result"
    result_folder.mkdir()
    result_pages = _render(convert_to_pdf(out, str(result_folder)))
    assert len(result_pages) == len(chosen)
    for position, (ref, page) in enumerate(zip(chosen, result_pages, strict=True), start=1):
        source_page = rendered[ref.source][ref.slide_number - 1]
        assert page.size == source_page.size
        difference = _difference(page, source_page)
        assert difference < PIXEL_BOUND, f"slide {position} ({os.path.basename(ref.source)} #{ref.slide_number}) differs by {difference:.2f}"
    # The two looks really differ, so the comparison can tell a lost master apart.
    blue_vs_green = _difference(rendered[decks["blue"]][0], rendered[decks["green"]][0])
    assert blue_vs_green > 10 * PIXEL_BOUND
