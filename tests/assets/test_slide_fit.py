"""Slides of another size are fitted like PowerPoint's "Ensure fit": checked by
rendering. Each slide of an assembled deck, rendered by LibreOffice, must match
its source slide rendered by LibreOffice and letterboxed into the deck's size
(uniform scale, centred, bars in the slide's background colour).

The bound: mean absolute difference of greyscale pixels (0..255), both images
downscaled to 240 px wide, at most FIT_BOUND. A slide pasted unscaled (the old
behaviour: a 16:9 slide in a 4:3 deck lost its right third) or a wrong slide is
many times further off (checked below, so the comparison can fail).

Each source deck and each assembled deck is rendered once for the module."""

from __future__ import annotations

import os

import pypdfium2
import pytest
from PIL import Image, ImageChops, ImageStat
from pptx import Presentation

from assets.deck_builder import DeckAssemblyError, SlideRef, build_deck, slide_size
from assets.office import convert_to_pdf
from assets.slide_fit import size_label
from tests.support.pptx_package import validate_package
from tests.support.sized_decks import SIZES, make_all
from tests.tooling import require_executable

FIT_BOUND = 2.0          # greyscale MAD, 0..255, at COMPARE_WIDTH (measured at most 1.0)
COMPARE_WIDTH = 240
RENDER_WIDTH = 960

MIXES = {
    # name: (target size or None for the first slide's, slides as (source size, number))
    "4:3 into 16:9": (None, [("16:9", 1), ("4:3", 1), ("4:3", 2), ("4:3", 3)]),
    "16:9 into 4:3": (None, [("4:3", 2), ("16:9", 1), ("16:9", 2), ("16:9", 3)]),
    "into A4 portrait": (SIZES["A4 portrait"], [("16:9", 1), ("4:3", 2), ("A4 portrait", 3), ("16:9", 3)]),
}


def _render(pdf_path: str) -> list[Image.Image]:
    pdf = pypdfium2.PdfDocument(pdf_path)
    try:
        return [page.render(scale=RENDER_WIDTH / page.get_width()).to_pil().convert("RGB") for page in pdf]
    finally:
        pdf.close()


def _text_boxes(pdf_path: str) -> list[tuple[str, list[tuple[float, float, float, float]], tuple[float, float]]]:
    """Per page: its text, the boxes of its characters and the page size."""
    pdf = pypdfium2.PdfDocument(pdf_path)
    pages = []
    try:
        for page in pdf:
            text = page.get_textpage()
            boxes = [text.get_charbox(i) for i in range(text.count_chars())]
            pages.append((text.get_text_range(), boxes, (page.get_width(), page.get_height())))
    finally:
        pdf.close()
    return pages


def letterboxed(source: Image.Image, target_size: tuple[int, int]) -> Image.Image:
    """The source slide scaled uniformly into the target, centred, bars in its background."""
    scale = min(target_size[0] / source.width, target_size[1] / source.height)
    inner = source.resize((round(source.width * scale), round(source.height * scale)), Image.LANCZOS)
    canvas = Image.new("RGB", target_size, source.getpixel((2, 2)))
    canvas.paste(inner, ((target_size[0] - inner.width) // 2, (target_size[1] - inner.height) // 2))
    return canvas


def difference(first: Image.Image, second: Image.Image) -> float:
    height = round(COMPARE_WIDTH * first.height / first.width)
    a = first.convert("L").resize((COMPARE_WIDTH, height), Image.LANCZOS)
    b = second.convert("L").resize((COMPARE_WIDTH, height), Image.LANCZOS)
    return ImageStat.Stat(ImageChops.difference(a, b)).mean[0]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    require_executable("soffice", "apt-get install -y libreoffice-impress-nogui")
    folder = tmp_path_factory.mktemp("sized")
    decks = make_all(str(folder))
    sources = {size: _render(convert_to_pdf(path, str(folder / f"src-{n}"))) for n, (size, path) in
               enumerate(decks.items())}
    results = {}
    for n, (name, (target, picks)) in enumerate(MIXES.items()):
        out = str(folder / f"mix-{n}.pptx")
        build_deck([SlideRef(decks[size], number) for size, number in picks], out, size=target)
        pdf = convert_to_pdf(out, str(folder / f"mix-{n}"))
        results[name] = {"path": out, "pages": _render(pdf), "text": _text_boxes(pdf)}
    return {"decks": decks, "sources": sources, "results": results}


@pytest.mark.parametrize("mix", list(MIXES))
def test_each_slide_matches_its_source_letterboxed(rendered, mix):
    target, picks = MIXES[mix]
    result = rendered["results"][mix]
    assert validate_package(result["path"]) == []
    deck = Presentation(result["path"])
    first = SIZES[picks[0][0]]
    assert (deck.slide_width, deck.slide_height) == (target or first)
    assert len(result["pages"]) == len(picks)
    for position, ((size, number), page) in enumerate(zip(picks, result["pages"], strict=True), start=1):
        source = rendered["sources"][size][number - 1]
        expected = letterboxed(source, page.size)
        off = difference(page, expected)
        assert off <= FIT_BOUND, f"{mix}: slide {position} ({size} #{number}) is off by {off:.2f}"
        if SIZES[size] != (deck.slide_width, deck.slide_height):
            # The comparison can fail: the same slide pasted unscaled at the top left is far off.
            px_per_emu = page.width / deck.slide_width
            unscaled = Image.new("RGB", page.size, source.getpixel((2, 2)))
            unscaled.paste(source.resize((round(SIZES[size][0] * px_per_emu), round(SIZES[size][1] * px_per_emu))),
                           (0, 0))
            assert difference(page, unscaled) > 2 * FIT_BOUND
            wrong = letterboxed(rendered["sources"][size][number % 3], page.size)
            assert difference(page, wrong) > 3 * FIT_BOUND


@pytest.mark.parametrize("mix", list(MIXES))
def test_no_text_is_cut_off(rendered, mix):
    """Every character of every slide lies on its page; the pricing column is all there."""
    for text, boxes, (width, height) in rendered["results"][mix]["text"]:
        for left, bottom, right, top in boxes:
            if right > left:  # spaces and line ends have empty boxes
                assert -1 <= left and right <= width + 1 and -1 <= bottom and top <= height + 1, text
    everything = " ".join(text for text, _, _ in rendered["results"][mix]["text"])
    for words in ("Price per bed / month", "Starter $9", "Growth $7", "Enterprise: custom"):
        assert words in everything


def test_text_sizes_scale_with_the_shapes(rendered):
    """Explicit run sizes, the master's styles and default-size text boxes are scaled."""
    deck = Presentation(rendered["results"]["16:9 into 4:3"]["path"])
    scale = 9144000 / 12192000
    runs = [r for shape in deck.slides[2].shapes if shape.has_text_frame
            for p in shape.text_frame.paragraphs for r in p.runs if r.text == "Explicit 28 pt"]
    assert runs and runs[0].font.size.pt == pytest.approx(28 * scale, abs=0.01)
    masters = {m.part.partname: m for m in deck.slide_masters}
    assert len(masters) == 2  # the 4:3 deck's own, and the 16:9 deck's fitted
    title_sizes = sorted(int(e.get("sz")) for m in deck.slide_masters
                         for e in m.element.iter("{http://schemas.openxmlformats.org/drawingml/2006/main}defRPr")
                         if e.getparent().tag.endswith("lvl1pPr") and e.get("sz")
                         and e.getparent().getparent().tag.endswith("titleStyle"))
    assert title_sizes == [round(4400 * scale), 4400]



def test_a_chosen_size_and_labels(rendered, tmp_path):
    decks = rendered["decks"]
    assert slide_size(decks["4:3"]) == SIZES["4:3"]
    assert size_label(*SIZES["16:9"]) == "16:9" and size_label(*SIZES["A4 portrait"]) == "A4 portrait"
    out = str(tmp_path / "chosen.pptx")
    build_deck([SlideRef(decks["4:3"], 1)], out, size=SIZES["16:9"])  # even the first slide is fitted
    deck = Presentation(out)
    assert (deck.slide_width, deck.slide_height) == SIZES["16:9"]
    title = deck.slides[0].shapes.title
    assert title.left >= (12192000 - 9144000) // 2  # centred between bars
    with pytest.raises(DeckAssemblyError, match="between 1 and 56 inches"):
        build_deck([SlideRef(decks["4:3"], 1)], out, size=(10, 10))


def test_same_size_slides_are_copied_unchanged(rendered, tmp_path):
    """No fitting when sizes agree: the slide's XML is byte for byte its source's."""
    decks = rendered["decks"]
    out = str(tmp_path / "same.pptx")
    build_deck([SlideRef(decks["16:9"], 2), SlideRef(decks["16:9"], 1)], out)
    source, result = Presentation(decks["16:9"]), Presentation(out)
    assert result.slides[0].part.blob == source.slides[1].part.blob
    assert result.slide_masters[0].part.blob == source.slide_masters[0].part.blob


def _without_layout(source: str, out: str) -> str:
    """A copy of the deck whose first slide lost the relationship to its layout."""
    import re
    import zipfile

    with zipfile.ZipFile(source) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "ppt/slides/_rels/slide1.xml.rels":
                data = re.sub(rb'<Relationship [^>]*slideLayout"[^>]*/>', b"", data)
            new.writestr(item, data)
    return out


def test_a_slide_without_its_layout_is_refused_by_name(rendered, tmp_path):
    broken = _without_layout(rendered["decks"]["4:3"], str(tmp_path / "broken.pptx"))
    out = tmp_path / "out.pptx"
    with pytest.raises(DeckAssemblyError, match="layout or master of slide 1 of broken.pptx is missing"):
        build_deck([SlideRef(rendered["decks"]["16:9"], 1), SlideRef(broken, 1)], str(out))
    assert not out.exists()
    build_deck([SlideRef(rendered["decks"]["16:9"], 1), SlideRef(broken, 2)], str(out))  # its other slides are fine
    assert len(Presentation(str(out)).slides) == 2


def _ole_deck(path: str) -> tuple[str, bytes]:
    """A 16:9 deck whose slide holds an embedded workbook shown as an icon; returns the workbook too."""
    import io

    from openpyxl import Workbook
    from pptx.util import Inches

    from tests.assets.deck_fixtures import picture

    workbook = io.BytesIO()
    sheet = Workbook()
    sheet.active["A1"] = "embedded"
    sheet.save(workbook)
    ole_deck = Presentation()
    ole_deck.slide_width, ole_deck.slide_height = SIZES["16:9"]
    slide = ole_deck.slides.add_slide(ole_deck.slide_layouts[6])
    slide.shapes.add_ole_object(io.BytesIO(workbook.getvalue()), "Excel.Sheet.12", Inches(1), Inches(1),
                                Inches(4), Inches(3), icon_file=picture("#555555", "icon"))
    ole_deck.save(path)
    return path, workbook.getvalue()


def test_embedded_objects_and_media_travel_fitted(rendered, tmp_path):
    """An OLE object (an embedded workbook) and a video keep their parts; their frames are fitted."""
    import zipfile

    from pptx.util import Inches

    from tests.assets.deck_fixtures import make_green_deck

    ole_path, workbook = _ole_deck(str(tmp_path / "ole.pptx"))
    green = make_green_deck(str(tmp_path / "green.pptx"))  # 16:9 with a video on slide 2
    out = str(tmp_path / "objects.pptx")
    build_deck([SlideRef(rendered["decks"]["4:3"], 1), SlideRef(ole_path, 1), SlideRef(green, 2)], out)
    assert validate_package(out) == []
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
        assert any(n.startswith("ppt/embeddings/") and archive.read(n) == workbook for n in names)
        assert any(n.startswith("ppt/media/") and archive.read(n).startswith(b"\x00\x00\x00\x18ftyp") for n in names)
    deck = Presentation(out)
    scale = SIZES["4:3"][0] / SIZES["16:9"][0]
    frame = deck.slides[1].shapes[0]
    assert frame.width == round(Inches(4) * scale) and frame.top == round(Inches(1) * scale) + round(
        (SIZES["4:3"][1] - SIZES["16:9"][1] * scale) / 2)


def test_smartart_ole_and_media_slides_render_fitted(rendered, tmp_path):
    """Rendered by LibreOffice, a SmartArt slide (drawn from the drawing PowerPoint caches), an
    embedded workbook's slide (its icon) and a video's slide (its poster) fitted from 16:9 into
    4:3 match their sources letterboxed, within the bound of the other size mixes."""
    from tests.assets.deck_fixtures import make_green_deck

    picks = [(_with_smartart(str(tmp_path / "smartart.pptx"), SIZES["16:9"]), 1),
             (_ole_deck(str(tmp_path / "ole.pptx"))[0], 1), (make_green_deck(str(tmp_path / "green.pptx")), 2)]
    out = str(tmp_path / "fitted.pptx")
    build_deck([SlideRef(rendered["decks"]["4:3"], 1), *(SlideRef(path, number) for path, number in picks)], out)
    pdf = convert_to_pdf(out, str(tmp_path / "fitted"))
    pages = _render(pdf)
    assert len(pages) == 1 + len(picks)
    for n, ((path, number), page) in enumerate(zip(picks, pages[1:], strict=True)):
        source = _render(convert_to_pdf(path, str(tmp_path / f"source-{n}")))[number - 1]
        if n == 0:  # LibreOffice really draws the SmartArt: far from an empty slide
            assert difference(source, Image.new("RGB", source.size, "white")) > 2 * FIT_BOUND
        off = difference(page, letterboxed(source, page.size))
        assert off <= FIT_BOUND, f"{path.rsplit('/', 1)[1]} slide {number} is off by {off:.2f}"
    smartart_text = _text_boxes(pdf)[1][0]
    assert all(step in smartart_text for step, _, _ in STEPS)


def _without_parts(source: str, out: str, dropped) -> str:
    """A copy of the deck less the parts whose names `dropped` accepts (their relationships stay)."""
    import zipfile

    with zipfile.ZipFile(source) as old, zipfile.ZipFile(out, "w") as new:
        for item in old.infolist():
            if not dropped(item.filename):
                new.writestr(item, old.read(item.filename))
    return out


@pytest.mark.parametrize("kind", ["embedded object", "video"])
def test_a_slide_missing_its_embedded_part_is_refused_by_name(rendered, tmp_path, kind):
    """Reading a file drops relationships to parts it lacks: the copy would lose the workbook or
    the video without a word. The build is refused, naming the slide and what is missing."""
    from tests.assets.deck_fixtures import make_green_deck

    if kind == "embedded object":
        source, number = _ole_deck(str(tmp_path / "ole.pptx"))[0], 1
        broken = _without_parts(source, str(tmp_path / "broken-ole.pptx"), lambda n: n.startswith("ppt/embeddings/"))
    else:
        source, number = make_green_deck(str(tmp_path / "green.pptx")), 2
        broken = _without_parts(source, str(tmp_path / "broken-video.pptx"), lambda n: n.endswith(".mp4"))
    out = tmp_path / "out.pptx"
    with pytest.raises(DeckAssemblyError, match=rf"Slide {number} of {os.path.basename(broken)} refers to (.* and )?an? {kind} \(rId\d+\)"):
        build_deck([SlideRef(rendered["decks"]["4:3"], 1), SlideRef(broken, number)], str(out))
    assert not out.exists()
    build_deck([SlideRef(rendered["decks"]["4:3"], 1), SlideRef(source, number)], str(out))  # the intact file is fine
    assert validate_package(str(out)) == []


def test_a_thousand_slide_source(tmp_path):
    """A source deck of 1,000 slides: its last slide is found and fitted."""
    big = Presentation()
    big.slide_width, big.slide_height = SIZES["16:9"]
    layout = big.slide_layouts[5]
    for n in range(1, 1001):
        big.slides.add_slide(layout).shapes.title.text = f"Slide {n}"
    source = str(tmp_path / "big.pptx")
    big.save(source)
    out = str(tmp_path / "from-big.pptx")
    build_deck([SlideRef(source, 1000), SlideRef(source, 1)], out, size=SIZES["4:3"])
    deck = Presentation(out)
    assert [s.shapes.title.text for s in deck.slides] == ["Slide 1000", "Slide 1"]
    assert len(deck.slide_masters) == 1
    with pytest.raises(DeckAssemblyError, match="Slide 1001 does not exist in big.pptx"):
        build_deck([SlideRef(source, 1001)], out)


STEPS = [("Step one", "4472C4", 100000), ("Step two", "ED7D31", 2200000), ("Step three", "70AD47", 4300000)]


def _with_smartart(path: str, size: tuple[int, int]) -> str:
    """A deck whose slide holds a SmartArt process of three steps, assembled from the parts
    PowerPoint writes (python-pptx cannot author SmartArt): data, layout, style and colours,
    and the drawing PowerPoint caches, which the data names through its `dsp:dataModelExt`
    (LibreOffice draws that drawing; without it, it draws nothing for this layout)."""
    from lxml import etree
    from pptx.opc.package import Part
    from pptx.opc.packuri import PackURI

    deck = Presentation()
    deck.slide_width, deck.slide_height = size
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    dgm = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    dsp = "http://schemas.microsoft.com/office/drawing/2008/diagram"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    shapes = "".join(
        f'<dsp:sp modelId="{{{n}}}"><dsp:nvSpPr><dsp:cNvPr id="0" name=""/><dsp:cNvSpPr/></dsp:nvSpPr><dsp:spPr>'
        f'<a:xfrm><a:off x="{x}" y="200000"/><a:ext cx="1800000" cy="1000000"/></a:xfrm>'
        f'<a:prstGeom prst="roundRect"><a:avLst/></a:prstGeom><a:solidFill><a:srgbClr val="{colour}"/></a:solidFill>'
        '</dsp:spPr><dsp:txBody><a:bodyPr anchor="ctr"/><a:lstStyle/><a:p><a:pPr algn="ctr"/><a:r>'
        '<a:rPr lang="en-US" sz="2000"><a:solidFill><a:srgbClr val="FFFFFF"/></a:solidFill></a:rPr>'
        f'<a:t>{text}</a:t></a:r></a:p></dsp:txBody></dsp:sp>' for n, (text, colour, x) in enumerate(STEPS, 1))
    drawing = Part(PackURI("/ppt/diagrams/drawing1.xml"), "application/vnd.ms-office.drawingml.diagramDrawing+xml",
                   deck.part.package,
                   (f'<dsp:drawing xmlns:dsp="{dsp}" xmlns:a="{a}"><dsp:spTree><dsp:nvGrpSpPr><dsp:cNvPr id="0" '
                    f'name=""/><dsp:cNvGrpSpPr/></dsp:nvGrpSpPr><dsp:grpSpPr/>{shapes}</dsp:spTree></dsp:drawing>')
                   .encode())
    drawing_id = slide.part.relate_to(drawing, "http://schemas.microsoft.com/office/2007/relationships/diagramDrawing")
    points = "".join(f'<dgm:pt modelId="{{{n}}}"><dgm:prSet/><dgm:spPr/><dgm:t><a:bodyPr/><a:p><a:r><a:t>{text}'
                     '</a:t></a:r></a:p></dgm:t></dgm:pt>' for n, (text, _, _) in enumerate(STEPS, 1))
    kinds = {
        "data": ("application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml", f"{office}/diagramData",
                 f'<dgm:dataModel xmlns:dgm="{dgm}" xmlns:a="{a}"><dgm:ptLst><dgm:pt modelId="0" type="doc"/>'
                 f'{points}</dgm:ptLst><dgm:cxnLst/><dgm:bg/><dgm:whole/><dgm:extLst><a:ext uri="{dsp}">'
                 f'<dsp:dataModelExt xmlns:dsp="{dsp}" relId="{drawing_id}" minVer="{dgm}"/></a:ext></dgm:extLst>'
                 '</dgm:dataModel>'),
        "layout": ("application/vnd.openxmlformats-officedocument.drawingml.diagramLayout+xml",
                   f"{office}/diagramLayout", f'<dgm:layoutDef xmlns:dgm="{dgm}"><dgm:layoutNode/></dgm:layoutDef>'),
        "quickStyle": ("application/vnd.openxmlformats-officedocument.drawingml.diagramStyle+xml",
                       f"{office}/diagramQuickStyle", f'<dgm:styleDef xmlns:dgm="{dgm}"/>'),
        "colors": ("application/vnd.openxmlformats-officedocument.drawingml.diagramColors+xml",
                   f"{office}/diagramColors", f'<dgm:colorsDef xmlns:dgm="{dgm}"/>'),
    }
    ids = {}
    for name, (content_type, reltype, xml) in kinds.items():
        part = Part(PackURI(f"/ppt/diagrams/{name}1.xml"), content_type, deck.part.package, xml.encode())
        ids[name] = slide.part.relate_to(part, reltype)
    frame = etree.fromstring(
        f'<p:graphicFrame xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="{a}" '
        f'xmlns:r="{office}"><p:nvGraphicFramePr><p:cNvPr id="9" name="Diagram"/><p:cNvGraphicFramePr/><p:nvPr/>'
        '</p:nvGraphicFramePr><p:xfrm><a:off x="914400" y="914400"/><a:ext cx="6200000" cy="1400000"/></p:xfrm>'
        f'<a:graphic><a:graphicData uri="{dgm}"><dgm:relIds xmlns:dgm="{dgm}" r:dm="{ids["data"]}" '
        f'r:lo="{ids["layout"]}" r:qs="{ids["quickStyle"]}" r:cs="{ids["colors"]}"/></a:graphicData></a:graphic>'
        '</p:graphicFrame>')
    slide.shapes._spTree.append(frame)
    deck.save(path)
    return path


def test_smartart_travels_with_its_parts_and_its_drawing_fitted(rendered, tmp_path):
    import zipfile

    source = _with_smartart(str(tmp_path / "smartart.pptx"), SIZES["16:9"])
    out = str(tmp_path / "with-smartart.pptx")
    build_deck([SlideRef(rendered["decks"]["4:3"], 1), SlideRef(source, 1)], out)
    assert validate_package(out) == []
    scale = SIZES["4:3"][0] / SIZES["16:9"][0]
    with zipfile.ZipFile(out) as archive:
        names = [n for n in archive.namelist() if n.startswith("ppt/diagrams/")]
        assert sorted(n.rsplit("/", 1)[1] for n in names) == ["colors1.xml", "data1.xml", "drawing1.xml",
                                                              "layout1.xml", "quickStyle1.xml"]
        drawing = archive.read("ppt/diagrams/drawing1.xml").decode()
    assert f'cx="{round(1800000 * scale)}"' in drawing and f'sz="{round(2000 * scale)}"' in drawing
    frame = Presentation(out).slides[1].shapes[0]
    assert frame.width == round(6200000 * scale)
