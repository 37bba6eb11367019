"""Real decks of several slide sizes, masters and themes, for the tests of fitting
slides of one size into a deck of another (and for bench/bench_decks.py).

Each deck has slides with what fitting must carry: title and body placeholders
(text sized by the master), a text box whose text takes the presentation's
default size, runs with explicit sizes, a table, a chart, a group shape, a
picture and a connector."""

from __future__ import annotations

from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE
from pptx.enum.shapes import MSO_CONNECTOR, MSO_SHAPE
from pptx.util import Emu, Pt

from tests.assets.deck_fixtures import picture, restyle_master

SIZES = {
    "4:3": (9144000, 6858000),
    "16:9": (12192000, 6858000),
    "A4 portrait": (7560310, 10692130),
}


def _at(presentation, x: float, y: float, w: float, h: float):
    """Fractions of the slide -> EMU (left, top, width, height)."""
    width, height = presentation.slide_width, presentation.slide_height
    return Emu(int(x * width)), Emu(int(y * height)), Emu(int(w * width)), Emu(int(h * height))


def make_sized_deck(path: str, size: str, *, background: str, accent: str, font: str, name: str) -> str:
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = (Emu(v) for v in SIZES[size])
    restyle_master(presentation, background, accent, font)
    # The default template's placeholders are laid out for 4:3; stretch them over this size,
    # as a template made for it would be.
    x_ratio, y_ratio = SIZES[size][0] / 9144000, SIZES[size][1] / 6858000
    for layout in [presentation.slide_masters[0], *presentation.slide_layouts]:
        for shape in layout.placeholders:
            if shape._element.xfrm is not None:
                shape.left, shape.width = Emu(int(shape.left * x_ratio)), Emu(int(shape.width * x_ratio))
                shape.top, shape.height = Emu(int(shape.top * y_ratio)), Emu(int(shape.height * y_ratio))
    layout = presentation.slide_layouts[1]

    slide = presentation.slides.add_slide(layout)
    slide.shapes.title.text = f"{name}: pricing tiers"
    slide.placeholders[1].text_frame.text = "Price per bed / month"
    for line in ("Starter $9", "Growth $7", "Enterprise: custom"):
        paragraph = slide.placeholders[1].text_frame.add_paragraph()
        paragraph.text = line
        paragraph.level = 1
    box = slide.shapes.add_textbox(*_at(presentation, 0.55, 0.80, 0.4, 0.12))
    box.text_frame.text = "Default-size text box"
    slide.notes_slide.notes_text_frame.text = f"Notes of {name} 1"

    slide = presentation.slides.add_slide(presentation.slide_layouts[5])  # title only
    slide.shapes.title.text = f"{name}: table and chart"
    rows = slide.shapes.add_table(3, 3, *_at(presentation, 0.05, 0.25, 0.42, 0.3)).table
    for r in range(3):
        for c in range(3):
            rows.cell(r, c).text = ["Tier", "Beds", "Price"][c] if r == 0 else f"{r}{c}"
    data = CategoryChartData()
    data.categories = ["Q1", "Q2", "Q3"]
    data.add_series("Deals", (4.0, 9.0, 6.0))
    slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, *_at(presentation, 0.52, 0.25, 0.43, 0.6), data)
    box = slide.shapes.add_textbox(*_at(presentation, 0.05, 0.65, 0.42, 0.15))
    run = box.text_frame.paragraphs[0].add_run()
    run.text = "Explicit 28 pt"
    run.font.size = Pt(28)
    run.font.bold = True

    slide = presentation.slides.add_slide(presentation.slide_layouts[6])  # blank
    group = slide.shapes.add_group_shape()
    for n in range(3):
        shape = group.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, *_at(presentation, 0.05 + 0.31 * n, 0.1, 0.27, 0.25))
        shape.fill.solid()
        shape.fill.fore_color.rgb = RGBColor.from_string(accent)
        shape.text_frame.text = f"Step {n + 1}"
    left, top, width, _ = _at(presentation, 0.1, 0.45, 0.45, 0)
    slide.shapes.add_picture(picture("#8e44ad", f"{name} picture"), left, top, width=width)
    start_x, start_y, _, _ = _at(presentation, 0.6, 0.5, 0, 0)
    end_x, end_y, _, _ = _at(presentation, 0.95, 0.9, 0, 0)
    line = slide.shapes.add_connector(MSO_CONNECTOR.STRAIGHT, start_x, start_y, end_x, end_y)
    line.line.width = Pt(6)
    line.line.color.rgb = RGBColor(0x20, 0x20, 0x20)
    presentation.save(path)
    return path


LOOKS = {
    "4:3": {"background": "FDF6E3", "accent": "B58900", "font": "DejaVu Serif", "name": "Sand"},
    "16:9": {"background": "DCE6F2", "accent": "1F3A5F", "font": "DejaVu Sans", "name": "Navy"},
    "A4 portrait": {"background": "E8F5E9", "accent": "2E7D32", "font": "DejaVu Sans", "name": "Leaf"},
}


def make_all(folder: str) -> dict[str, str]:
    """One deck per size, each with its own master and theme: {size name: path}."""
    return {size: make_sized_deck(f"{folder}/{size.replace(':', 'x').replace(' ', '-')}.pptx", size, **look)
            for size, look in LOOKS.items()}
