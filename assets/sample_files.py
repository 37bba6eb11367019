"""Real, deterministic PDF, PPTX, DOCX and XLSX files written from plain specs (no
network, no LibreOffice): the files of the demo library (`assets.demo_content`), and
the inputs tests and benches build.

`make_pdf` writes PDF syntax itself (standard Helvetica, WinAnsi text); given a
`PdfEncryption` it encrypts the file's strings and streams, so an encrypted PDF needs
no extra package either (tests.support.hostile_files supplies one).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from typing import Protocol

PAGE_BREAK = "\f"  # in make_docx paragraphs: start a new page here


# --- PDF ------------------------------------------------------------------------------

class PdfEncryption(Protocol):
    """A PDF security handler for one file: its /Encrypt dictionary, and the encryption
    of the strings and streams of object `number`."""

    dictionary: bytes

    def crypt(self, number: int, data: bytes) -> bytes: ...


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _page_stream(title: str, lines: list[str]) -> bytes:
    parts = [b"BT /F1 22 Tf 56 780 Td (" + _pdf_string(title) + b") Tj ET"]
    y = 740
    for line in lines:
        if y < 60:
            break
        parts.append(b"BT /F1 12 Tf 56 %d Td (" % y + _pdf_string(line) + b") Tj ET")
        y -= 18
    return b"\n".join(parts)


def make_pdf(path: str, pages: list[dict], *, title: str | None = None,
             encryption: Callable[[bytes], PdfEncryption] | None = None) -> str:
    """An A4 PDF, one page per {"title": str, "lines": [str]}; text extractable by PDFium.

    `encryption`, called with the file's ID, encrypts it."""
    objects: list[bytes] = []  # object n is objects[n - 1]
    file_id = hashlib.md5(repr((pages, title)).encode()).digest()
    security = encryption(file_id) if encryption is not None else None

    def crypt(number: int, data: bytes) -> bytes:
        return data if security is None else security.crypt(number, data)

    page_count = len(pages)
    # 1 catalog, 2 pages, 3 font, 4 info, then (page, content) pairs
    kids = " ".join(f"{5 + 2 * i} 0 R" for i in range(page_count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                   b"/Encoding /WinAnsiEncoding >>")
    info_title = title or (pages[0].get("title", "") if pages else "")
    objects.append(b"<< /Producer (Collateral samples) /Title <"
                   + crypt(4, info_title.encode("cp1252", "replace")).hex().encode() + b"> >>")
    for i, page in enumerate(pages):
        number = 5 + 2 * i
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {number + 1} 0 R >>"
                       .encode())
        stream = crypt(number + 1, _page_stream(page.get("title", ""), page.get("lines", [])))
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    encrypt_number = None
    if security is not None:
        objects.append(security.dictionary)
        encrypt_number = len(objects)

    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 4 0 R /ID [<{file_id.hex()}> " \
              f"<{file_id.hex()}>]"
    if encrypt_number:
        trailer += f" /Encrypt {encrypt_number} 0 R"
    out.write(trailer.encode() + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    with open(path, "wb") as handle:
        handle.write(out.getvalue())
    return path


# --- Office files ---------------------------------------------------------------------

def _png_bytes(width: int = 320, height: int = 180) -> io.BytesIO:
    """A picture to put on a slide."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), (31, 78, 121))
    ImageDraw.Draw(image).ellipse([width // 4, height // 4, width * 3 // 4, height * 3 // 4],
                                  fill=(242, 169, 0))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def make_pptx(path: str, slides: list[dict], *, widescreen: bool = True) -> str:
    """A deck: each slide {"title", "bullets": [...], "notes": str, "table": [[...]] | None,
    "image": bool, "group": [str] (text boxes inside a group shape)}."""
    from pptx import Presentation
    from pptx.util import Emu, Inches, Pt

    presentation = Presentation()
    if widescreen:
        presentation.slide_width, presentation.slide_height = Inches(13.333), Inches(7.5)
    layout = presentation.slide_layouts[1]  # Title and Content
    for spec in slides:
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = spec.get("title", "")
        body = slide.placeholders[1]
        bullets = spec.get("bullets") or []
        if bullets:
            frame = body.text_frame
            frame.text = bullets[0]
            for bullet in bullets[1:]:
                frame.add_paragraph().text = bullet
        else:
            body.element.getparent().remove(body.element)
        table = spec.get("table")
        if table:
            rows, cols = len(table), max(len(r) for r in table)
            shape = slide.shapes.add_table(rows, cols, Inches(7), Inches(2), Inches(5.5),
                                           Inches(0.4 * rows))
            for r, row in enumerate(table):
                for c, value in enumerate(row):
                    shape.table.cell(r, c).text = str(value)
        if spec.get("image"):
            slide.shapes.add_picture(_png_bytes(), Inches(9), Inches(5),
                                     width=Inches(3))
        group_texts = spec.get("group")
        if group_texts:
            group = slide.shapes.add_group_shape()
            for n, text in enumerate(group_texts):
                box = group.shapes.add_textbox(Inches(1 + 2.2 * n), Inches(6.2), Inches(2),
                                               Inches(0.6))
                box.text_frame.text = text
                box.text_frame.paragraphs[0].runs[0].font.size = Pt(12)
            group.left = Emu(group.left)
        if spec.get("notes"):
            slide.notes_slide.notes_text_frame.text = spec["notes"]
    presentation.save(path)
    return path


def make_docx(path: str, title: str, paragraphs: list[str], table: list[list] | None = None,
              *, header: str | None = None, footer: str | None = None) -> str:
    """A Word document; a paragraph equal to PAGE_BREAK starts a new page."""
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    document.add_heading(title, level=0)
    for paragraph in paragraphs:
        if paragraph == PAGE_BREAK:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        elif paragraph.startswith("# "):
            document.add_heading(paragraph[2:], level=1)
        else:
            document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(r) for r in table))
        grid.style = "Table Grid"
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = str(value)
    section = document.sections[0]
    if header:
        section.header.paragraphs[0].text = header
    if footer:
        section.footer.paragraphs[0].text = footer
    document.core_properties.title = title
    document.save(path)
    return path


def make_xlsx(path: str, sheets: dict[str, list[list]]) -> str:
    """A workbook: sheet name -> rows of values (first row is the header)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name[:31])
        for row in rows:
            sheet.append(list(row))
        for cell in sheet[1] if rows else []:
            cell.font = Font(bold=True)
    workbook.save(path)
    return path
