"""A deck with hidden slides in the middle (real LibreOffice): slide N's thumbnail, its search
hit, its deep link `?page=N`, the viewer's page N and attention on page N are the same slide.
LibreOffice's PDF export skips hidden slides unless told otherwise, which shifted every later
page of the rendition and every later thumbnail; `flask make-previews` redoes decks rendered so.
Few tests, because every conversion costs seconds."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from sqlalchemy import select

from portal.extensions import db
from portal.models import PageAttention
from portal.storage import get_storage
from tests.tooling import require_executable

# Each slide has its own background, so a thumbnail or a rendered page says which slide it is.
SLIDES = [("Kickoff agenda", "alpaca", (200, 30, 30)), ("Backup pricing", "bison", (30, 160, 30)),
          ("Backup legal", "condor", (30, 30, 200)), ("Customer story", "dingo", (220, 200, 20)),
          ("Next steps", "eland", (160, 30, 160))]
HIDDEN = (2, 3)


@pytest.fixture(autouse=True)
def _libreoffice():
    require_executable("soffice", "apt-get install -y libreoffice-impress-nogui libreoffice-writer-nogui")


def _deck_with_hidden_slides() -> bytes:
    presentation = Presentation()
    for number, (title, word, colour) in enumerate(SLIDES, start=1):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"The {word} slide"
        fill = slide.background.fill
        fill.solid()
        fill.fore_color.rgb = RGBColor(*colour)
        if number in HIDDEN:
            slide._element.set("show", "0")  # what PowerPoint writes for "Hide slide"
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def _slide_shown(image: Image.Image) -> int:
    """The slide whose background colour is in the image's top-left corner."""
    corner = image.convert("RGB").getpixel((4, 4))
    distance = [sum((a - b) ** 2 for a, b in zip(corner, colour, strict=True)) for _, _, colour in SLIDES]
    assert min(distance) < 40 ** 2, f"corner colour {corner} is no slide's background"
    return distance.index(min(distance)) + 1


def _rendition_pages(data: bytes) -> list[tuple[int, str]]:
    document = pypdfium2.PdfDocument(data)
    try:
        pages = []
        for page in document:
            pages.append((_slide_shown(page.render(scale=0.2).to_pil()), page.get_textpage().get_text_range()))
        return pages
    finally:
        document.close()


def test_hidden_slides_keep_slide_n_and_page_n_the_same(client, factories, auth, tmp_path):
    asset = factories.asset(factories.user("marketer"), title="Quarterly deck", filename="quarterly.pptx",
                            content=_deck_with_hidden_slides())
    db.session.refresh(asset)
    version = asset.current_version
    assert version.processing == "ready", version.error
    assert version.page_count == version.preview_pages == len(SLIDES)
    rep = factories.user("rep")
    token = auth.token(rep)

    # The viewer's PDF: page N is slide N, hidden ones included.
    rendition = client.get(f"/api/v1/assets/{asset.id}/preview", headers=token)
    assert rendition.status_code == 200
    shown = _rendition_pages(rendition.data)
    assert [slide for slide, _ in shown] == [1, 2, 3, 4, 5]
    for number, (_, text) in enumerate(shown, start=1):
        assert SLIDES[number - 1][1] in text

    # Slide N's thumbnail is slide N.
    pages = client.get(f"/api/v1/assets/{asset.id}/pages", headers=token).get_json()["items"]
    assert [page["title"] for page in pages] == [title for title, _, _ in SLIDES]
    for page in pages:
        image = client.get(page["thumbnail_url"], headers=token)
        assert image.status_code == 200
        assert _slide_shown(Image.open(io.BytesIO(image.data))) == page["number"]

    # A search hit on a slide after the hidden ones names that slide, and its link opens the
    # viewer at the page that shows it.
    auth.login(rep)
    for number in (3, 4, 5):
        word = SLIDES[number - 1][1]
        hits = client.get(f"/api/v1/search/pages?q={word}", headers=token).get_json()["items"]
        assert [(hit["asset_id"], hit["number"]) for hit in hits] == [(asset.id, number)]
        viewer = client.get(f"/assets/{asset.id}/view?page={number}&q={word}").get_data(as_text=True)
        assert f'data-start-page="{number}"' in viewer
        assert word in shown[number - 1][1]

    # Attention on page 4 is attention on slide 4 ("Customer story").
    beacon = {"pages": [{"number": 4, "seconds": 9}]}
    assert client.post(f"/api/v1/assets/{asset.id}/attention", headers=token, json=beacon).status_code == 204
    row = db.session.scalar(select(PageAttention).where(PageAttention.asset_id == asset.id))
    assert (row.number, row.seconds) == (4, 9.0)
    stored = tmp_path / "kept.pdf"
    get_storage().download_to(version.preview_key, str(stored))
    assert Path(stored).read_bytes() == rendition.data


def _as_rendered_before_the_fix(version, tmp_path: Path) -> None:
    """What processing left before hidden slides were exported: a PDF without them, and
    thumbnails 1, 2, 3 drawn from its pages 1, 2, 3 (slides 1, 4, 5), none for 4 and 5."""
    storage = get_storage()
    kept = tmp_path / "old.pdf"
    storage.download_to(version.preview_key, str(kept))
    document = pypdfium2.PdfDocument(str(kept))
    for number in sorted(HIDDEN, reverse=True):
        document.del_page(number - 1)
    old = tmp_path / "old-without-hidden.pdf"
    document.save(str(old))
    document.close()
    with open(old, "rb") as stream:
        storage.save(version.preview_key, stream, content_type="application/pdf")
    shown = [number for number in range(1, len(SLIDES) + 1) if number not in HIDDEN]
    keys = {page.number: page.thumbnail_key for page in version.pages}
    for page in version.pages:
        page.thumbnail_key = keys[shown[page.number - 1]] if page.number <= len(shown) else None
    version.preview_pages = len(shown)
    db.session.commit()


def test_make_previews_redraws_decks_rendered_without_their_hidden_slides(client, factories, auth, runner, tmp_path):
    asset = factories.asset(factories.user("marketer"), title="Quarterly deck", filename="quarterly.pptx",
                            content=_deck_with_hidden_slides())
    plain = factories.asset(title="Plain deck", filename="plain.pptx", content=_deck_with_hidden_slides())
    db.session.refresh(asset)
    version = asset.current_version
    _as_rendered_before_the_fix(version, tmp_path)
    page_ids = sorted(page.id for page in version.pages)
    token = auth.token(factories.user("rep"))
    thumbnail = client.get(f"/api/v1/assets/{asset.id}/pages", headers=token).get_json()["items"][1]["thumbnail_url"]
    assert _slide_shown(Image.open(io.BytesIO(client.get(thumbnail, headers=token).data))) == 4  # the old fault

    result = runner.invoke(args=["make-previews"])  # the tests' queue runs each job as it is queued
    assert result.exit_code == 0 and "Queued 1 rendition" in result.output, result.output
    db.session.expire_all()
    version = db.session.get(type(version), version.id)
    assert version.preview_pages == version.page_count == len(SLIDES)
    assert sorted(page.id for page in version.pages) == page_ids  # decks and favourites still point at them
    rendition = client.get(f"/api/v1/assets/{asset.id}/preview", headers=token)
    assert [slide for slide, _ in _rendition_pages(rendition.data)] == [1, 2, 3, 4, 5]
    for page in client.get(f"/api/v1/assets/{asset.id}/pages", headers=token).get_json()["items"]:
        image = client.get(page["thumbnail_url"], headers=token)
        assert _slide_shown(Image.open(io.BytesIO(image.data))) == page["number"]
    assert all(page.phash for page in version.pages)  # lineage fingerprints from the right pictures
    assert "Queued 0 rendition" in runner.invoke(args=["make-previews"]).output  # nothing left to do
    assert plain.current_version.preview_pages == len(SLIDES)
