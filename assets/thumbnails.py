"""Page and cover images: PDF pages with pypdfium2, images with Pillow, office files via PDF."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable

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


def render_pdf_pages(pdf_path: str, out_dir: str, *, width: int = THUMBNAIL_WIDTH,
                     max_pages: int = MAX_RENDERED_PAGES, password: str | None = None,
                     on_page: Callable[[int, str], None] | None = None,
                     on_progress: Progress | None = None) -> dict[int, str]:
    """Render each page to `out_dir/pages/page-NNNN.png`, `width` pixels wide; return number -> path."""
    try:
        pdf = open_pdf(pdf_path, password)
    except ExtractionFailed as error:
        raise ThumbnailFailed(error.reason) from None
    os.makedirs(os.path.join(out_dir, "pages"), exist_ok=True)
    rendered: dict[int, str] = {}
    try:
        count = min(len(pdf), max_pages)
        for index in range(count):
            page = pdf[index]
            try:
                page_width, page_height = page.get_size()
                if page_width <= 0 or page_height <= 0:
                    continue
                scale = width / page_width
                # Bound the pixel count for strange page shapes (a 1 x 200 inch strip).
                if (page_width * scale) * (page_height * scale) > MAX_THUMBNAIL_PIXELS:
                    scale = (MAX_THUMBNAIL_PIXELS / (page_width * page_height)) ** 0.5
                bitmap = page.render(scale=scale, may_draw_forms=True)
                try:
                    image = bitmap.to_pil()
                    path = page_png_path(out_dir, index + 1)
                    image.save(path, "PNG", optimize=False, compress_level=6)
                finally:
                    bitmap.close()
            finally:
                page.close()
            rendered[index + 1] = path
            if on_page:
                on_page(index + 1, path)
            if on_progress:
                on_progress("rendering", index + 1, count)
    finally:
        pdf.close()
    return rendered


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
                  on_start: Callable[[int], None] | None = None,
                  on_page: Callable[[int, str], None] | None = None,
                  on_progress: Progress | None = None) -> dict[int, str]:
    """PPTX/DOCX/XLSX -> LibreOffice PDF -> page images. Office errors propagate."""
    from assets.office import convert_to_pdf

    scratch = os.path.join(out_dir, "_office")
    if on_progress:
        on_progress("converting", 0, 1)
    try:
        pdf_path = convert_to_pdf(src, scratch, timeout=timeout, kind=kind, soffice=soffice,
                                  memory_limit_mb=memory_limit_mb, on_start=on_start)
        if on_progress:
            on_progress("converting", 1, 1)
        return render_pdf_pages(pdf_path, out_dir, on_page=on_page, on_progress=on_progress)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def make_cover(page_pngs: dict[int, str], out_dir: str) -> str | None:
    """The cover is the first page's thumbnail."""
    if not page_pngs:
        return None
    cover = os.path.join(out_dir, "cover.png")
    shutil.copyfile(page_pngs[min(page_pngs)], cover)
    return cover
