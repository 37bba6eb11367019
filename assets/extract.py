"""Text per page or slide from PDF, PPTX, DOCX and XLSX; metadata from images and videos.

Every function takes a path and returns an `Extraction`, or raises `ExtractionFailed`
with a sentence meant for the person who uploaded the file. Sizes are bounded so a
hostile file costs a known amount of work.

DOCX pages: Word does not store pages, so a DOCX "page" here starts at an explicit
page break (a page-break run, or a paragraph with "page break before") or at a
section break; a stretch of more than `DOCX_BLOCKS_PER_PAGE` paragraphs and tables
without any break is split there too, so a long document never becomes one giant page.
Headers and footers (deduplicated across sections) are added to the first page.

XLSX pages: one per sheet, in workbook order, titled with the sheet's name. Printed
pages are LibreOffice's business: a sheet's thumbnail is its first printed page
(see `assets.thumbnails.render_office`).
"""

from __future__ import annotations

import os
import struct
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from assets.inspect import FileKind

PAGE_TEXT_LIMIT = 100_000
TOTAL_TEXT_LIMIT = 5_000_000
TITLE_LIMIT = 200
MAX_PAGES = 5_000
XLSX_MAX_ROWS = 2_000
XLSX_MAX_COLS = 50
XLSX_MAX_SHEETS = 100
DOCX_BLOCKS_PER_PAGE = 60
ZIP_MAX_TOTAL = 512 * 1024 * 1024
ZIP_MAX_MEMBERS = 20_000
ZIP_MAX_RATIO = 100
ZIP_RATIO_MIN_SIZE = 10 * 1024 * 1024
IMAGE_MAX_PIXELS = 64_000_000

Progress = Callable[[str, int, int], None]


@dataclass
class PageContent:
    number: int
    title: str
    text: str
    notes: str = ""


@dataclass
class Extraction:
    page_count: int
    pages: list[PageContent] = field(default_factory=list)
    metadata: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class ExtractionFailed(Exception):
    """The file cannot be read; str(error) is the reason to show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _noop(stage: str, done: int, total: int) -> None:
    pass


def clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = text.replace("\x0b", "\n").replace("\ufffe", "").replace("\x02", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def first_line(text: str) -> str:
    for line in text.split("\n"):
        line = " ".join(line.split())
        if line:
            return line[:TITLE_LIMIT]
    return ""


class _Budget:
    """Caps text per page and across the document; remembers that it cut something."""

    def __init__(self) -> None:
        self.used = 0
        self.truncated = False

    def take(self, text: str) -> str:
        text = clean(text)
        limit = min(PAGE_TEXT_LIMIT, max(0, TOTAL_TEXT_LIMIT - self.used))
        if len(text) > limit:
            text = text[:limit]
            self.truncated = True
        self.used += len(text)
        return text

    def warnings(self) -> list[str]:
        if not self.truncated:
            return []
        return [f"Text was truncated (limits: {PAGE_TEXT_LIMIT:,} characters per page, "
                f"{TOTAL_TEXT_LIMIT:,} in total)."]


# --- ZIP containers -------------------------------------------------------------------

def check_zip(path: str, *, max_total: int = ZIP_MAX_TOTAL, max_ratio: int = ZIP_MAX_RATIO,
              max_members: int = ZIP_MAX_MEMBERS) -> None:
    """Refuse damaged archives and decompression bombs before any library opens them.

    zipfile stops each member at its declared size, so the declared sizes are what
    the readers can be made to decompress.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ExtractionFailed("The file is damaged (not a valid ZIP/Office file).") from None
    if len(infos) > max_members:
        raise ExtractionFailed(f"The file has too many parts ({len(infos):,}) to be processed safely.")
    total = 0
    for info in infos:
        total += info.file_size
        if info.file_size >= ZIP_RATIO_MIN_SIZE and \
                info.file_size > max_ratio * max(info.compress_size, 1):
            raise ExtractionFailed(
                "The file looks like a decompression bomb: a part expands "
                f"{info.file_size // max(info.compress_size, 1):,} times "
                f"(to {info.file_size / 2**20:,.0f} MB) and was not opened.")
    if total > max_total:
        raise ExtractionFailed(
            f"The file expands to {total / 2**20:,.0f} MB when unpacked, more than the "
            f"{max_total / 2**20:,.0f} MB allowed; it was not opened.")


def _damaged(kind: str, error: BaseException | None = None) -> BaseException:
    # An exhausted address space shows up as lxml parse errors ("Memory allocation failed")
    # or as shared libraries that cannot be mapped while importing.
    if error is not None and ("memory" in str(error).lower() or isinstance(error, ImportError)):
        return MemoryError(str(error))
    return ExtractionFailed(f"The file is damaged (not a valid {kind} file).")


# --- PDF ------------------------------------------------------------------------------

def open_pdf(path: str, password: str | None = None):
    """A pypdfium2 document, or ExtractionFailed with the reason PDFium gives."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(path, password=password)
    except pdfium.PdfiumError as error:
        code = getattr(error, "err_code", None)
        if code == 4:  # FPDF_ERR_PASSWORD
            raise ExtractionFailed("The PDF is password-protected.") from None
        if code == 6:  # FPDF_ERR_SECURITY
            raise ExtractionFailed("The PDF uses an unsupported security handler.") from None
        raise ExtractionFailed("The PDF is damaged and cannot be read.") from None


def extract_pdf(path: str, *, on_progress: Progress = _noop, password: str | None = None
                ) -> Extraction:
    pdf = open_pdf(path, password)
    try:
        total = len(pdf)
        budget = _Budget()
        result = Extraction(page_count=total)
        count = min(total, MAX_PAGES)
        for index in range(count):
            try:
                page = pdf[index]
            except MemoryError:
                raise
            except Exception:
                result.warnings.append(f"Page {index + 1} could not be read.")
                result.pages.append(PageContent(index + 1, "", ""))
                continue
            try:
                textpage = page.get_textpage()
                try:
                    text = budget.take(textpage.get_text_bounded())
                finally:
                    textpage.close()
            except MemoryError:
                raise
            except Exception:
                text = ""
                result.warnings.append(f"Page {index + 1}: its text could not be read.")
            finally:
                page.close()
            result.pages.append(PageContent(index + 1, first_line(text), text))
            on_progress("extracting", index + 1, count)
        if total > count:
            result.warnings.append(f"Only the first {count:,} of {total:,} pages were read.")
        result.warnings.extend(budget.warnings())
        return result
    finally:
        pdf.close()


# --- PPTX -----------------------------------------------------------------------------

def _shape_texts(shapes, skip_id: int | None) -> Iterator[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    for shape in shapes:
        try:
            if shape.shape_id == skip_id:
                continue
            if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
                yield from _shape_texts(shape.shapes, skip_id)
                continue
            if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                yield shape.text_frame.text
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    cells = [cell.text.strip() for cell in row.cells]
                    yield "\t".join(cell for cell in cells if cell)
            if getattr(shape, "has_chart", False) and shape.has_chart:
                chart = shape.chart
                if chart.has_title and chart.chart_title.has_text_frame:
                    yield chart.chart_title.text_frame.text
        except MemoryError:
            raise
        except Exception:  # one odd shape must not cost the whole slide
            continue


def extract_pptx(path: str, *, on_progress: Progress = _noop) -> Extraction:
    check_zip(path)
    try:
        from pptx import Presentation

        presentation = Presentation(path)
        slides = list(presentation.slides)
    except MemoryError:
        raise
    except Exception as error:  # lxml XMLSyntaxError and friends
        raise _damaged("PowerPoint", error) from error
    budget = _Budget()
    result = Extraction(page_count=len(slides))
    if presentation.slide_width and presentation.slide_height:  # decks of mixed sizes are fitted by this
        result.metadata.update(slide_width_emu=int(presentation.slide_width),
                               slide_height_emu=int(presentation.slide_height))
    count = min(len(slides), MAX_PAGES)
    for index, slide in enumerate(slides[:count]):
        title = ""
        title_id = None
        try:
            title_shape = slide.shapes.title
            if title_shape is not None and title_shape.has_text_frame:
                title = first_line(clean(title_shape.text_frame.text))
                title_id = title_shape.shape_id
        except MemoryError:
            raise
        except Exception:
            pass
        body = "\n".join(t for t in _shape_texts(slide.shapes, title_id) if t and t.strip())
        notes = ""
        # has_notes_slide first: reading slide.notes_slide would create an empty one.
        if slide.has_notes_slide:
            frame = slide.notes_slide.notes_text_frame
            if frame is not None:
                notes = budget.take(frame.text)
        text = budget.take("\n".join(part for part in (title, body) if part))
        result.pages.append(PageContent(index + 1, title or first_line(text), text, notes))
        on_progress("extracting", index + 1, count)
    if len(slides) > count:
        result.warnings.append(f"Only the first {count:,} of {len(slides):,} slides were read.")
    result.warnings.extend(budget.warnings())
    return result


# --- DOCX -----------------------------------------------------------------------------

def _paragraph_pieces(element) -> Iterator[str | None]:
    """Text of a w:p in document order; None marks an explicit page break."""
    from docx.oxml.ns import qn

    tags = {qn("w:t"): "t", qn("w:tab"): "tab", qn("w:br"): "br", qn("w:cr"): "cr"}
    break_type = qn("w:type")
    for node in element.iter(*tags):
        kind = tags[node.tag]
        if kind == "t":
            yield node.text or ""
        elif kind == "tab":
            yield "\t"
        elif kind == "br" and node.get(break_type) == "page":
            yield None
        else:
            yield "\n"


class _DocxPages:
    """The pages of a DOCX as its body is read: each page's lines, title and blocks
    (paragraphs and tables) so far."""

    def __init__(self) -> None:
        self.lines: list[list[str]] = [[]]
        self.titles: list[str] = [""]
        self.blocks = [0]

    def new_page(self) -> None:
        """Start a page, unless the current one is still empty."""
        if self.lines[-1] or self.blocks[-1]:
            self.lines.append([])
            self.titles.append("")
            self.blocks.append(0)

    def drop_empty_last(self) -> None:
        """A break at the very end leaves an empty page; the first page always stays."""
        if not self.lines[-1] and len(self.lines) > 1:
            self.lines.pop()
            self.titles.pop()
            self.blocks.pop()


def _open_docx(path: str):
    """The python-docx document and its body element, or the reason it is damaged."""
    try:
        import docx

        document = docx.Document(path)
        return document, document.element.body
    except MemoryError:
        raise
    except Exception as error:
        raise _damaged("Word", error) from error


def _docx_style_names(document) -> dict[str, str]:
    """Style id -> style name ("Heading1" -> "Heading 1"); empty if the styles are unreadable."""
    try:
        return {style.style_id: (style.name or "") for style in document.styles}
    except MemoryError:
        raise
    except Exception:
        return {}


def _docx_style_name(paragraph, style_names: dict[str, str]) -> str:
    from docx.oxml.ns import qn

    style = paragraph.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
    if style is None:
        return ""
    style_id = style.get(qn("w:val")) or ""
    return style_names.get(style_id, style_id)


def _read_docx_paragraph(paragraph, pages: _DocxPages, style_names: dict[str, str]) -> None:
    """Add a w:p's text to the pages, following its page and section breaks; the first
    heading or title paragraph of a page names the page."""
    from docx.oxml.ns import qn

    ppr = paragraph.find(qn("w:pPr"))
    if ppr is not None and ppr.find(qn("w:pageBreakBefore")) is not None:
        pages.new_page()
    line: list[str] = []
    for piece in _paragraph_pieces(paragraph):
        if piece is None:
            pages.lines[-1].append("".join(line))
            line = []
            pages.new_page()
        else:
            line.append(piece)
    text = "".join(line)
    if text.strip():
        pages.lines[-1].append(text)
        name = _docx_style_name(paragraph, style_names).lower()
        if not pages.titles[-1] and (name.startswith("heading") or name == "title"):
            pages.titles[-1] = first_line(text)
    pages.blocks[-1] += 1
    if ppr is not None and ppr.find(qn("w:sectPr")) is not None:
        pages.new_page()


def _read_docx_table(table, pages: _DocxPages) -> None:
    """Add a w:tbl to the current page, a line per row with its non-empty cells tab-separated."""
    from docx.oxml.ns import qn

    for row in table.iter(qn("w:tr")):
        cells = []
        for cell in row.iter(qn("w:tc")):
            cell_text = "".join(p or "" for p in _paragraph_pieces(cell)).strip()
            if cell_text:
                cells.append(cell_text)
        if cells:
            pages.lines[-1].append("\t".join(cells))
    pages.blocks[-1] += 1


def _read_docx_body(document, body, pages: _DocxPages) -> None:
    from docx.oxml.ns import qn

    style_names = _docx_style_names(document)
    for child in body.iterchildren():
        if pages.blocks[-1] >= DOCX_BLOCKS_PER_PAGE:
            pages.new_page()
        if child.tag == qn("w:p"):
            _read_docx_paragraph(child, pages, style_names)
        elif child.tag == qn("w:tbl"):
            _read_docx_table(child, pages)


def _docx_headers_and_footers(document) -> list[str]:
    """The distinct texts of the sections' own headers and footers (what could be read)."""
    texts: list[str] = []
    try:
        for section in document.sections:
            for part in (section.header, section.first_page_header, section.footer,
                         section.first_page_footer):
                if part.is_linked_to_previous:
                    continue
                text = "\n".join(p.text for p in part.paragraphs if p.text.strip())
                for table in part.tables:
                    for row in table.rows:
                        text += "\n" + "\t".join(c.text for c in row.cells if c.text.strip())
                if text.strip() and text.strip() not in texts:
                    texts.append(text.strip())
    except MemoryError:
        raise
    except Exception:
        pass
    return texts


def extract_docx(path: str, *, on_progress: Progress = _noop) -> Extraction:
    check_zip(path)
    document, body = _open_docx(path)
    pages = _DocxPages()
    _read_docx_body(document, body, pages)
    headers_and_footers = _docx_headers_and_footers(document)
    pages.drop_empty_last()
    pages.lines[0].extend(headers_and_footers)

    budget = _Budget()
    result = Extraction(page_count=len(pages.lines),
                        metadata={"page_basis": "page and section breaks"})
    for index, (lines, title) in enumerate(zip(pages.lines, pages.titles, strict=True)):
        text = budget.take("\n".join(lines))
        result.pages.append(PageContent(index + 1, title or first_line(text), text))
        on_progress("extracting", index + 1, len(pages.lines))
    result.warnings.extend(budget.warnings())
    return result


# --- XLSX -----------------------------------------------------------------------------

def extract_xlsx(path: str, *, on_progress: Progress = _noop) -> Extraction:
    check_zip(path)
    try:
        import openpyxl

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except MemoryError:
        raise
    except Exception as error:
        raise _damaged("Excel", error) from error
    try:
        sheets = workbook.worksheets[:XLSX_MAX_SHEETS]
        budget = _Budget()
        result = Extraction(page_count=len(workbook.worksheets))
        clipped = False
        for index, sheet in enumerate(sheets):
            lines: list[str] = []
            size = 0
            if hasattr(sheet, "iter_rows"):
                try:
                    for row_number, row in enumerate(sheet.iter_rows(
                            max_row=XLSX_MAX_ROWS, max_col=XLSX_MAX_COLS, values_only=True)):
                        values = [str(v).strip() for v in row if v is not None and str(v).strip()]
                        if values:
                            line = "\t".join(values)
                            lines.append(line)
                            size += len(line) + 1
                        if size > PAGE_TEXT_LIMIT:
                            clipped = True
                            break
                        if row_number + 1 >= XLSX_MAX_ROWS:
                            clipped = clipped or (sheet.max_row or 0) > XLSX_MAX_ROWS
                except MemoryError:
                    raise
                except Exception as error:
                    raise _damaged("Excel", error) from error
            text = budget.take("\n".join(lines))
            result.pages.append(PageContent(index + 1, sheet.title[:TITLE_LIMIT], text))
            on_progress("extracting", index + 1, len(sheets))
        if clipped:
            result.warnings.append(f"Large sheets were read only in part (first {XLSX_MAX_ROWS:,} "
                                   f"rows and {XLSX_MAX_COLS} columns).")
        if len(workbook.worksheets) > len(sheets):
            result.warnings.append(f"Only the first {len(sheets)} sheets were read.")
        result.warnings.extend(budget.warnings())
        return result
    finally:
        workbook.close()


# --- images and videos ----------------------------------------------------------------

@contextmanager
def header_only_images() -> Iterator[None]:
    """Let Pillow read an image's header whatever its size: nothing is decoded here."""
    from PIL import Image

    previous = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def extract_image(path: str) -> Extraction:
    from PIL import Image, UnidentifiedImageError

    try:
        with header_only_images(), Image.open(path) as image:
            width, height = image.size
            metadata = {"width": width, "height": height, "format": image.format,
                        "mode": image.mode, "frames": getattr(image, "n_frames", 1)}
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error):
        raise ExtractionFailed("The image is damaged and cannot be read.") from None
    result = Extraction(page_count=1, metadata=metadata)
    if width * height > IMAGE_MAX_PIXELS:
        result.warnings.append(f"The image is very large ({width}x{height}, "
                               f"{width * height / 1e6:,.0f} megapixels); no preview was made.")
        result.metadata["too_large"] = True
    return result


def _boxes(handle, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    position = start
    for _ in range(10_000):
        if position + 8 > end:
            return
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            return
        size, kind = struct.unpack(">I4s", header)
        offset = 8
        if size == 1:
            size = struct.unpack(">Q", handle.read(8))[0]
            offset = 16
        elif size == 0:
            size = end - position
        if size < offset:
            return
        yield kind, position + offset, min(position + size, end)
        position += size


def extract_video(path: str) -> Extraction:
    size = os.path.getsize(path)
    metadata: dict = {"bytes": size}
    try:
        with open(path, "rb") as handle:
            for kind, start, end in _boxes(handle, 0, size):
                if kind != b"moov":
                    continue
                for inner, inner_start, _inner_end in _boxes(handle, start, end):
                    if inner != b"mvhd":
                        continue
                    handle.seek(inner_start)
                    version = handle.read(1)[0]
                    handle.read(3)
                    if version == 1:
                        _, _, timescale, duration = struct.unpack(">QQIQ", handle.read(28))
                    else:
                        _, _, timescale, duration = struct.unpack(">IIII", handle.read(16))
                    if timescale:
                        metadata["duration_seconds"] = round(duration / timescale, 3)
                break
    except (OSError, struct.error, IndexError):
        pass
    return Extraction(page_count=0, metadata=metadata)


def extract(path: str, kind: FileKind | str, *, on_progress: Progress = _noop) -> Extraction:
    """Dispatch on the real kind (see assets.inspect.sniff)."""
    from assets.inspect import IMAGE_KINDS, VIDEO_KINDS

    kind = FileKind(kind)
    if kind is FileKind.PDF:
        return extract_pdf(path, on_progress=on_progress)
    if kind is FileKind.PPTX:
        return extract_pptx(path, on_progress=on_progress)
    if kind is FileKind.DOCX:
        return extract_docx(path, on_progress=on_progress)
    if kind is FileKind.XLSX:
        return extract_xlsx(path, on_progress=on_progress)
    if kind in IMAGE_KINDS:
        return extract_image(path)
    if kind in VIDEO_KINDS:
        return extract_video(path)
    if kind is FileKind.EMPTY:
        raise ExtractionFailed("The file is empty (0 bytes).")
    return Extraction(page_count=0, metadata={"bytes": os.path.getsize(path)})
