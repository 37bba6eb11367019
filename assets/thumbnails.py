"""Page and cover images: PDF pages with pypdfium2, images with Pillow, office files via PDF."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence

from assets.extract import IMAGE_MAX_PIXELS, ExtractionFailed, header_only_images, open_pdf

THUMBNAIL_WIDTH = 480
MAX_THUMBNAIL_PIXELS = THUMBNAIL_WIDTH * THUMBNAIL_WIDTH * 4  # a page at most 4x taller than wide
MAX_RENDERED_PAGES = 1_000

Progress = Callable[[str, int, int], None]


class ThumbnailFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def page_png_path(out_dir: str, number: int) -> str:
    return os.path.join(out_dir, "pages", f"page-{number:04d}.png")


def _render_page(page, path: str, width: int) -> bool:
    """Write one pypdfium2 page as a PNG `width` pixels wide; False for a page without area."""
    page_width, page_height = page.get_size()
    if page_width <= 0 or page_height <= 0:
        return False
    scale = width / page_width
    # Bound the pixel count for strange page shapes (a 1 x 200 inch strip).
    if (page_width * scale) * (page_height * scale) > MAX_THUMBNAIL_PIXELS:
        scale = (MAX_THUMBNAIL_PIXELS / (page_width * page_height)) ** 0.5
    bitmap = page.render(scale=scale, may_draw_forms=True)
    try:
        bitmap.to_pil().save(path, "PNG", optimize=False, compress_level=6)
    finally:
        bitmap.close()
    return True


def render_pdf_pages(pdf_path: str, out_dir: str, *, width: int = THUMBNAIL_WIDTH,
                     max_pages: int = MAX_RENDERED_PAGES, password: str | None = None,
                     numbers: Mapping[int, int] | None = None,
                     on_page: Callable[[int, str], None] | None = None,
                     on_progress: Progress | None = None) -> dict[int, str]:
    """Render pages to `out_dir/pages/page-NNNN.png`, `width` pixels wide; return number -> path.

    By default page N of the PDF becomes thumbnail N, for the first `max_pages` pages.
    `numbers` (thumbnail number -> PDF page number) picks and renames pages instead:
    a workbook's thumbnail N is the first printed page of sheet N.
    """
    try:
        pdf = open_pdf(pdf_path, password)
    except ExtractionFailed as error:
        raise ThumbnailFailed(error.reason) from None
    os.makedirs(os.path.join(out_dir, "pages"), exist_ok=True)
    rendered: dict[int, str] = {}
    try:
        if numbers is None:
            numbers = {n: n for n in range(1, len(pdf) + 1)}
        wanted = sorted(((source, number) for number, source in numbers.items()
                         if 1 <= source <= len(pdf)))[:max_pages]
        for done, (source, number) in enumerate(wanted, start=1):
            page = pdf[source - 1]
            path = page_png_path(out_dir, number)
            try:
                drawn = _render_page(page, path, width)
            finally:
                page.close()
            if drawn:
                rendered[number] = path
                if on_page:
                    on_page(number, path)
            if on_progress:
                on_progress("rendering", done, len(wanted))
    finally:
        pdf.close()
    return rendered


def render_pdf_cover(pdf_path: str, out_dir: str, *, width: int = THUMBNAIL_WIDTH) -> str | None:
    """`out_dir/cover.png` from the PDF's first page (when no page thumbnail can be the cover)."""
    try:
        pdf = open_pdf(pdf_path)
    except ExtractionFailed as error:
        raise ThumbnailFailed(error.reason) from None
    try:
        if len(pdf) == 0:
            return None
        page = pdf[0]
        cover = os.path.join(out_dir, "cover.png")
        try:
            return cover if _render_page(page, cover, width) else None
        finally:
            page.close()
    finally:
        pdf.close()


def sheet_first_pages(pdf_path: str, sheets: Sequence[str]) -> dict[int, int]:
    """Sheet number (1-based, workbook order) -> the PDF page its print-out starts on.

    LibreOffice Calc writes one top-level bookmark per printed sheet, titled with the
    sheet's name and pointing at its first page; sheets that print nothing (empty,
    hidden) have none, and neither do sheets cut off by the page range.
    """
    by_title: dict[str, int] = {}
    for number, title in enumerate(sheets, start=1):
        by_title.setdefault(title, number)
    try:
        pdf = open_pdf(pdf_path)
    except ExtractionFailed as error:
        raise ThumbnailFailed(error.reason) from None
    first_pages: dict[int, int] = {}
    try:
        for bookmark in pdf.get_toc(max_depth=1):
            number = by_title.get(bookmark.get_title())
            dest = bookmark.get_dest()
            index = dest.get_index() if dest is not None else None
            if number is not None and index is not None and number not in first_pages:
                first_pages[number] = index + 1
    finally:
        pdf.close()
    return first_pages


def _sheet_names(path: str) -> list[str]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


def render_image(src: str, out_path: str, *, width: int = THUMBNAIL_WIDTH,
                 max_pixels: int = IMAGE_MAX_PIXELS) -> str:
    """A PNG at most `width` pixels wide; refuses images over `max_pixels` before decoding."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with header_only_images(), Image.open(src) as image:
            w, h = image.size
            if w * h > max_pixels:
                raise ThumbnailFailed(f"The image is too large to preview ({w}x{h} pixels).")
            if image.format == "JPEG":
                image.draft("RGB", (width, max(1, width * h // max(w, 1))))
            image.seek(0)
            image.load()
            picture = ImageOps.exif_transpose(image)
            if picture.mode not in ("RGB", "RGBA", "L", "LA"):
                picture = picture.convert("RGBA")
            picture.thumbnail((width, width * 4))
            os.makedirs(os.path.dirname(out_path) or ".", exist_ok=True)
            picture.save(out_path, "PNG")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as error:
        raise ThumbnailFailed(f"The image could not be rendered ({error.__class__.__name__}).") \
            from None
    return out_path


def render_office(src: str, out_dir: str, *, kind: str, timeout: float = 120,
                  soffice: str | None = None, memory_limit_mb: int | None = None,
                  max_pages: int = MAX_RENDERED_PAGES, sheets: Sequence[str] | None = None,
                  preview_pdf: str | None = None,
                  on_start: Callable[[int], None] | None = None,
                  on_pdf: Callable[[str], None] | None = None,
                  on_page: Callable[[int, str], None] | None = None,
                  on_warning: Callable[[str], None] | None = None,
                  on_progress: Progress | None = None) -> dict[int, str]:
    """PPTX/DOCX/XLSX -> LibreOffice PDF -> page images. Office errors propagate.

    LibreOffice writes at most `max_pages` pages. Slides and document pages become
    thumbnails 1, 2, 3... in print order. A workbook's pages are its sheets (as in
    `assets.extract`), so its thumbnail N is the first printed page of sheet N
    (`sheets`: the sheet names in workbook order, read from the file when not given);
    a sheet's further printed pages are only in the PDF. The PDF is kept at
    `preview_pdf` (then `on_pdf(preview_pdf)`) when given, else deleted.
    """
    from assets.office import convert_to_pdf

    scratch = os.path.join(out_dir, "_office")
    if on_progress:
        on_progress("converting", 0, 1)
    try:
        pdf_path = convert_to_pdf(src, scratch, timeout=timeout, kind=kind, soffice=soffice,
                                  memory_limit_mb=memory_limit_mb, max_pages=max_pages,
                                  on_start=on_start)
        if preview_pdf:
            os.replace(pdf_path, preview_pdf)
            pdf_path = preview_pdf
            if on_pdf:
                on_pdf(preview_pdf)
        if on_progress:
            on_progress("converting", 1, 1)
        printed = pdf_page_count(pdf_path)
        if printed >= max_pages and on_warning:
            later = "sheets that start later have no thumbnail" if kind == "xlsx" else \
                "later pages have no thumbnail"
            on_warning(f"Only the first {max_pages:,} printed pages were converted; {later}.")
        numbers = None
        if kind == "xlsx":
            numbers = sheet_first_pages(pdf_path, _sheet_names(src) if sheets is None else sheets)
            if not numbers and printed and on_warning:
                on_warning("The PDF LibreOffice made does not show where each sheet starts; "
                           "sheets have no thumbnails.")
        return render_pdf_pages(pdf_path, out_dir, max_pages=max_pages, numbers=numbers,
                                on_page=on_page, on_progress=on_progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def pdf_page_count(pdf_path: str) -> int:
    try:
        pdf = open_pdf(pdf_path)
    except ExtractionFailed as error:
        raise ThumbnailFailed(error.reason) from None
    try:
        return len(pdf)
    finally:
        pdf.close()


def make_cover(page_pngs: dict[int, str], out_dir: str) -> str | None:
    """The cover is the first page's thumbnail."""
    if not page_pngs:
        return None
    cover = os.path.join(out_dir, "cover.png")
    shutil.copyfile(page_pngs[min(page_pngs)], cover)
    return cover
