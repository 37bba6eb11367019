"""Fitting a slide made for one slide size onto another, like PowerPoint's
"Ensure fit": one uniform scale (the largest that keeps the whole slide
visible), the result centred, nothing cropped.

Works on the XML of the parts that travel with a slide (the slide, its layout
and master, charts and SmartArt drawings). Positions and sizes of the shapes on
the slide (the top level of the shape tree; a group's children follow their
group through its child coordinate space) are scaled and shifted; every length
that does not follow a shape is scaled: text sizes (runs, paragraph and list
defaults, the master's title/body/other styles), indents, spacing in points,
tabs, text insets, line widths, shadow distances, table columns, rows and cell
margins. Text that takes its size from the presentation's default text style
(text boxes and tables, which follow the *source* presentation's default) gets
that size, scaled, written on it, since the assembled deck has another default.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

A = "http://schemas.openxmlformats.org/drawingml/2006/main"
P = "http://schemas.openxmlformats.org/presentationml/2006/main"
C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
DSP = "http://schemas.microsoft.com/office/drawing/2008/diagram"

EMU_PER_INCH = 914400
DEFAULT_INSETS = {"lIns": 91440, "rIns": 91440, "tIns": 45720, "bIns": 45720}
DEFAULT_CELL_MARGINS = {"marL": 91440, "marR": 91440, "marT": 45720, "marB": 45720}
DEFAULT_TEXT_SIZE = 1800  # hundredths of a point, when a presentation names none
DEFAULT_CHART_TEXT_SIZE = 1000

# Common sizes, for labels.
NAMED_SIZES = {
    (12192000, 6858000): "16:9",
    (9144000, 6858000): "4:3",
    (9144000, 5143500): "16:9 (10 in)",
    (9144000, 5715000): "16:10",
    (7560310, 10692130): "A4 portrait",
    (10692130, 7560310): "A4 landscape",
    (6858000, 9144000): "4:3 portrait",
}
CHOICES = {"16:9": (12192000, 6858000), "4:3": (9144000, 6858000)}


def size_label(width: int, height: int) -> str:
    named = NAMED_SIZES.get((width, height))
    if named:
        return named
    ratio = width / height if height else 0
    for (w, h), name in NAMED_SIZES.items():
        if abs(w / h - ratio) < 0.005 and ":" in name and "(" not in name:
            return f"{name} ({width / EMU_PER_INCH:.2f} × {height / EMU_PER_INCH:.2f} in)"
    return f"{width / EMU_PER_INCH:.2f} × {height / EMU_PER_INCH:.2f} in"


def same_shape(first: tuple[int, int], second: tuple[int, int]) -> bool:
    """Sizes whose fit would change nothing visible (equal, to a rounding)."""
    return abs(first[0] - second[0]) <= 2 and abs(first[1] - second[1]) <= 2


@dataclass(frozen=True)
class Fit:
    scale: float
    dx: int
    dy: int
    default_sizes: tuple[int, ...] = (DEFAULT_TEXT_SIZE,) * 9  # the source's default text size per level

    @classmethod
    def between(cls, source: tuple[int, int], target: tuple[int, int],
                default_sizes: tuple[int, ...] | None = None) -> Fit:
        scale = min(target[0] / source[0], target[1] / source[1])
        dx = round((target[0] - source[0] * scale) / 2)
        dy = round((target[1] - source[1] * scale) / 2)
        return cls(scale, dx, dy, default_sizes or (DEFAULT_TEXT_SIZE,) * 9)

    def length(self, value: str | int) -> str:
        return str(max(0, round(int(value) * self.scale)))

    def signed(self, value: str | int) -> str:
        return str(round(int(value) * self.scale))


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


RUN_PROPERTIES = {_q(A, "rPr"), _q(A, "defRPr"), _q(A, "endParaRPr")}
PARAGRAPH_PROPERTIES = {_q(A, "pPr")} | {_q(A, f"lvl{n}pPr") for n in range(1, 10)}
TOP_LEVEL_XFRM = {
    _q(P, "sp"): (_q(P, "spPr"), _q(A, "xfrm")),
    _q(P, "pic"): (_q(P, "spPr"), _q(A, "xfrm")),
    _q(P, "cxnSp"): (_q(P, "spPr"), _q(A, "xfrm")),
    _q(P, "grpSp"): (_q(P, "grpSpPr"), _q(A, "xfrm")),
    _q(P, "graphicFrame"): (_q(P, "xfrm"),),
    _q(P, "contentPart"): (_q(P, "xfrm"),),
}


def _scale_lengths(root: etree._Element, fit: Fit, *, is_master: bool) -> None:
    """Every length that does not follow a shape's frame, anywhere in the part."""
    for element in root.iter(etree.Element):
        tag = element.tag
        if tag in RUN_PROPERTIES:
            for name in ("sz", "kern"):
                if name in element.attrib:
                    element.set(name, str(max(100, round(int(element.get(name)) * fit.scale))))
            if "spc" in element.attrib:
                element.set("spc", fit.signed(element.get("spc")))
        elif tag in PARAGRAPH_PROPERTIES:
            for name in ("marL", "marR"):
                if name in element.attrib:
                    element.set(name, fit.length(element.get(name)))
            if "indent" in element.attrib:
                element.set("indent", fit.signed(element.get("indent")))
            if "defTabSz" in element.attrib:
                element.set("defTabSz", fit.length(element.get("defTabSz")))
        elif tag in (_q(A, "spcPts"), _q(A, "buSzPts")):
            element.set("val", str(max(100 if tag == _q(A, "buSzPts") else 0,
                                       round(int(element.get("val", "0")) * fit.scale))))
        elif tag == _q(A, "tab") and "pos" in element.attrib:
            element.set("pos", fit.signed(element.get("pos")))
        elif tag == _q(A, "bodyPr"):
            shape_text = element.getparent() is not None and element.getparent().tag == _q(P, "txBody")
            placeholder = _placeholder_of(element)
            for name, default in DEFAULT_INSETS.items():
                if name in element.attrib:
                    element.set(name, fit.length(element.get(name)))
                elif shape_text and (is_master or not placeholder):
                    # Absent means the default, in EMU: write it scaled (placeholders of
                    # slides and layouts inherit it, scaled, from their master).
                    element.set(name, fit.length(default))
        elif tag == _q(A, "ln") and "w" in element.attrib:
            element.set("w", fit.length(element.get("w")))
        elif tag == _q(A, "gridCol") and "w" in element.attrib:
            element.set("w", fit.length(element.get("w")))
        elif tag == _q(A, "tr") and "h" in element.attrib:
            element.set("h", fit.length(element.get("h")))
        elif tag == _q(A, "tcPr"):
            for name, default in DEFAULT_CELL_MARGINS.items():
                element.set(name, fit.length(element.get(name, default)))
        elif tag.startswith(f"{{{A}}}") and tag.rsplit("}", 1)[1] in ("outerShdw", "innerShdw", "prstShdw",
                                                                        "glow", "softEdge", "reflection", "blur"):
            for name in ("dist", "blurRad", "rad"):
                if name in element.attrib:
                    element.set(name, fit.length(element.get(name)))


def _placeholder_of(body_pr: etree._Element) -> bool:
    shape = body_pr.getparent().getparent() if body_pr.getparent() is not None else None
    if shape is None:
        return False
    return shape.find(f"{{{P}}}nvSpPr/{{{P}}}nvPr/{{{P}}}ph") is not None


def _shape_children(tree: etree._Element):
    """Shapes at the top of a shape tree (through mc:AlternateContent)."""
    for child in tree:
        if child.tag == _q(MC, "AlternateContent"):
            for branch in child:
                yield from _shape_children(branch)
        else:
            yield child


def _scale_frames(tree: etree._Element, fit: Fit) -> None:
    for shape in _shape_children(tree):
        path = TOP_LEVEL_XFRM.get(shape.tag)
        if not path:
            continue
        xfrm = shape
        for step in path:
            xfrm = xfrm.find(step) if xfrm is not None else None
        _scale_frame(xfrm, fit)
        if shape.tag == _q(P, "graphicFrame"):
            # An embedded object's picture (its icon or last view) has its own frame in slide
            # space, and LibreOffice draws the object there, not in the graphic frame.
            for picture in shape.iterfind(f".//{_q(P, 'oleObj')}/{_q(P, 'pic')}"):
                _scale_frame(picture.find(f"{_q(P, 'spPr')}/{_q(A, 'xfrm')}"), fit)


def _scale_frame(xfrm: etree._Element | None, fit: Fit) -> None:
    if xfrm is None:
        return
    offset = xfrm.find(_q(A, "off"))
    extent = xfrm.find(_q(A, "ext"))
    if offset is not None:
        offset.set("x", str(round(int(offset.get("x", "0")) * fit.scale) + fit.dx))
        offset.set("y", str(round(int(offset.get("y", "0")) * fit.scale) + fit.dy))
    if extent is not None:
        extent.set("cx", fit.length(extent.get("cx", "0")))
        extent.set("cy", fit.length(extent.get("cy", "0")))


def _level_of(paragraph: etree._Element) -> int:
    properties = paragraph.find(_q(A, "pPr"))
    if properties is None:
        return 0
    return max(0, min(8, int(properties.get("lvl", "0"))))


def _list_style_sizes(body: etree._Element) -> set[int]:
    """Levels (0-based) for which the text body's own list style names a size."""
    style = body.find(_q(A, "lstStyle"))
    if style is None:
        return set()
    return {n - 1 for n in range(1, 10)
            if style.find(f"{{{A}}}lvl{n}pPr/{{{A}}}defRPr[@sz]") is not None}


def _pin_default_sizes(root: etree._Element, fit: Fit) -> None:
    """Text of text boxes and tables without a size takes the presentation's default,
    which in the assembled deck is another deck's: write the source's, scaled."""
    bodies = [body for body in root.iter(_q(P, "txBody"), _q(A, "txBody"))
              if body.tag == _q(A, "txBody") or not _placeholder_of(body.find(_q(A, "bodyPr")))]
    for body in bodies:
        sized_levels = _list_style_sizes(body)
        for paragraph in body.iter(_q(A, "p")):
            level = _level_of(paragraph)
            if level in sized_levels:
                continue
            size = str(max(100, round(fit.default_sizes[level] * fit.scale)))
            for run in paragraph:
                if run.tag in (_q(A, "r"), _q(A, "fld")):
                    properties = run.find(_q(A, "rPr"))
                    if properties is None:
                        properties = etree.Element(_q(A, "rPr"))
                        run.insert(0, properties)
                    properties.set("sz", properties.get("sz", size))
                elif run.tag == _q(A, "endParaRPr"):
                    run.set("sz", run.get("sz", size))
            if paragraph.find(_q(A, "endParaRPr")) is None and not len([r for r in paragraph if r.tag == _q(A, "r")]):
                etree.SubElement(paragraph, _q(A, "endParaRPr")).set("sz", size)


def fit_slide_part(root: etree._Element, fit: Fit, *, is_master: bool = False) -> None:
    """A slide, layout or master: frames scaled and centred, lengths and text scaled."""
    _scale_lengths(root, fit, is_master=is_master)
    _pin_default_sizes(root, fit)  # after: the sizes it writes are already scaled
    for tree in root.iter(_q(P, "spTree")):
        _scale_frames(tree, fit)


def fit_chart_part(root: etree._Element, fit: Fit) -> None:
    """A chart: its text and lines scaled (its frame is the slide's graphic frame)."""
    _scale_lengths(root, fit, is_master=False)
    if root.find(_q(C, "txPr")) is None:
        # No chart-wide text properties: its text is 10 pt; say so, scaled.
        size = max(100, round(DEFAULT_CHART_TEXT_SIZE * fit.scale))
        text = etree.fromstring(
            f'<c:txPr xmlns:c="{C}" xmlns:a="{A}"><a:bodyPr/><a:lstStyle/><a:p><a:pPr>'
            f'<a:defRPr sz="{size}"/></a:pPr><a:endParaRPr lang="en-US"/></a:p></c:txPr>')
        anchor = root.find(_q(C, "spPr"))
        if anchor is None:
            anchor = root.find(_q(C, "chart"))
        if anchor is not None:
            anchor.addnext(text)


def fit_diagram_drawing(root: etree._Element, fit: Fit) -> None:
    """A SmartArt drawing: its shapes sit in the frame's own space (no shift), scaled."""
    _scale_lengths(root, fit, is_master=False)
    for xfrm in root.iter(_q(A, "xfrm")):
        offset, extent = xfrm.find(_q(A, "off")), xfrm.find(_q(A, "ext"))
        if offset is not None:
            offset.set("x", fit.signed(offset.get("x", "0")))
            offset.set("y", fit.signed(offset.get("y", "0")))
        if extent is not None:
            extent.set("cx", fit.length(extent.get("cx", "0")))
            extent.set("cy", fit.length(extent.get("cy", "0")))


def default_text_sizes(presentation_element: etree._Element) -> tuple[int, ...]:
    """The size per level of a presentation's default text style (hundredths of a point)."""
    style = presentation_element.find(_q(P, "defaultTextStyle"))
    sizes = []
    fallback = DEFAULT_TEXT_SIZE
    for n in range(1, 10):
        found = style.find(f"{{{A}}}lvl{n}pPr/{{{A}}}defRPr") if style is not None else None
        if found is not None and found.get("sz"):
            fallback = int(found.get("sz"))
        sizes.append(fallback)
    return tuple(sizes)
