"""Plain PNG images for tests that need a picture file (a label is drawn on request)."""

from __future__ import annotations


def make_png(path: str, width: int = 640, height: int = 360, *,
             color: tuple[int, int, int] = (31, 78, 121), label: str | None = None) -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), color)
    draw = ImageDraw.Draw(image)
    draw.rectangle([width // 10, height // 3, width * 9 // 10, height * 2 // 3],
                   fill=(242, 169, 0))
    if label:
        draw.text((width // 10, height // 10), label, fill=(255, 255, 255))
    image.save(path, "PNG")
    return path
