"""Source decks for the deck-assembly tests: different masters, themes and
slide sizes; pictures, a chart with its workbook, a table, a group shape, a
hyperlink, speaker notes and a video."""

from __future__ import annotations

import io

from lxml import etree
from PIL import Image, ImageDraw
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.enum.chart import XL_CHART_TYPE
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.util import Inches, Pt

A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"


def picture(color: str, label: str) -> io.BytesIO:
    image = Image.new("RGB", (400, 240), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 380, 220), outline="white", width=6)
    draw.text((40, 100), label, fill="white")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def restyle_master(presentation, background: str, accent: str, font: str) -> None:
    """Give the deck its own look: master background, theme accent colour and fonts."""
    master = presentation.slide_masters[0]
    c_sld = master.element.find(f"{{{P_NS}}}cSld")
    background_xml = (f'<p:bg xmlns:p="{P_NS}" xmlns:a="{A_NS}"><p:bgPr><a:solidFill><a:srgbClr val="{background}"/>'
                      f'</a:solidFill><a:effectLst/></p:bgPr></p:bg>')
    for old in c_sld.findall(f"{{{P_NS}}}bg"):
        c_sld.remove(old)
    c_sld.insert(0, etree.fromstring(background_xml))
    theme_part = master.part.part_related_by(RT.THEME)
    theme = etree.fromstring(theme_part.blob)
    for accent_element in theme.iter(f"{{{A_NS}}}accent1"):
        for child in list(accent_element):
            accent_element.remove(child)
        etree.SubElement(accent_element, f"{{{A_NS}}}srgbClr").set("val", accent)
    for latin in theme.iter(f"{{{A_NS}}}latin"):
        latin.set("typeface", font)
    theme_part._blob = etree.tostring(theme, xml_declaration=True, encoding="UTF-8", standalone=True)


def _title_slide(presentation, title: str, body: str | None = None):
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = title
    if body:
        slide.placeholders[1].text_frame.text = body
    else:
        placeholder = slide.placeholders[1]
        placeholder.element.getparent().remove(placeholder.element)
    return slide


def make_blue_deck(path: str) -> str:
    """16:9, dark-blue master: picture + notes, chart, table + hyperlink."""
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = Inches(13.333), Inches(7.5)
    restyle_master(presentation, "1F3A5F", "F0A500", "DejaVu Sans")
    slide = _title_slide(presentation, "Blue 1: picture", "A picture and speaker notes")
    slide.shapes.add_picture(picture("#c0392b", "blue deck picture"), Inches(7), Inches(2.5), width=Inches(5))
    slide.notes_slide.notes_text_frame.text = "Notes of blue 1"
    slide = _title_slide(presentation, "Blue 2: chart")
    data = CategoryChartData()
    data.categories = ["Q1", "Q2", "Q3"]
    data.add_series("Revenue", (12.0, 19.0, 27.0))
    slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(1.8), Inches(8), Inches(5), data)
    slide = _title_slide(presentation, "Blue 3: table and link")
    table = slide.shapes.add_table(3, 3, Inches(1), Inches(2), Inches(8), Inches(2)).table
    for r in range(3):
        for c in range(3):
            table.cell(r, c).text = f"r{r}c{c}"
    box = slide.shapes.add_textbox(Inches(1), Inches(5), Inches(6), Inches(1))
    run = box.text_frame.paragraphs[0].add_run()
    run.text = "Open the pricing calculator"
    run.font.size = Pt(24)
    run.hyperlink.address = "https://example.com/calculator"
    presentation.save(path)
    return path


def make_green_deck(path: str) -> str:
    """16:9, green master with another theme: group shape, video, chart, notes."""
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = Inches(13.333), Inches(7.5)
    restyle_master(presentation, "E8F5E9", "2E7D32", "DejaVu Serif")
    slide = _title_slide(presentation, "Green 1: group")
    group = slide.shapes.add_group_shape()
    for n in range(3):
        box = group.shapes.add_textbox(Inches(1 + 3 * n), Inches(3), Inches(2.5), Inches(1))
        box.text_frame.text = f"grouped {n}"
    group.shapes.add_picture(picture("#2e7d32", "grouped picture"), Inches(1), Inches(4.5), width=Inches(3))
    slide.notes_slide.notes_text_frame.text = "Notes of green 1"
    slide = _title_slide(presentation, "Green 2: video")
    slide.shapes.add_movie(io.BytesIO(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4096), Inches(2), Inches(2),
                           Inches(6), Inches(3.4), poster_frame_image=picture("#37474f", "video poster"),
                           mime_type="video/mp4")
    slide = _title_slide(presentation, "Green 3: chart")
    data = CategoryChartData()
    data.categories = ["North", "South"]
    data.add_series("Deals", (7.0, 3.0))
    slide.shapes.add_chart(XL_CHART_TYPE.PIE, Inches(2), Inches(1.8), Inches(7), Inches(5), data)
    presentation.save(path)
    return path


def make_square_deck(path: str) -> str:
    """4:3 and the default look."""
    presentation = Presentation()
    _title_slide(presentation, "Square 1", "A 4:3 slide")
    _title_slide(presentation, "Square 2", "Another 4:3 slide")
    presentation.save(path)
    return path
