"""Processing keeps LibreOffice's PDF of decks and documents for the viewer (real
LibreOffice), with the right page count; `flask make-previews` queues the missing ones.
One test, because every conversion costs seconds."""

from __future__ import annotations

from pathlib import Path

import pypdfium2
import pytest

from assets.deck_builder import SlideRef, build_deck
from assets.sample_files import PAGE_BREAK, make_docx, make_xlsx
from portal.extensions import db
from portal.storage import get_storage
from tests.assets.deck_fixtures import make_blue_deck, make_green_deck
from tests.tooling import require_executable


@pytest.fixture(autouse=True)
def _libreoffice():
    require_executable("soffice", "apt-get install -y libreoffice-impress-nogui libreoffice-writer-nogui")


def _pages_of_stored_pdf(key: str, tmp_path: Path) -> int:
    local = tmp_path / "fetched.pdf"
    get_storage().download_to(key, str(local))
    document = pypdfium2.PdfDocument(str(local))
    try:
        return len(document)
    finally:
        document.close()


def test_decks_documents_and_workbooks_get_renditions_older_ones_from_the_queue(client, factories, auth, runner,
                                                                               tmp_path):
    blue, green = make_blue_deck(str(tmp_path / "blue.pptx")), make_green_deck(str(tmp_path / "green.pptx"))
    deck = tmp_path / "mixed.pptx"  # charts, pictures, a table, a group and two masters
    build_deck([SlideRef(blue, 1), SlideRef(green, 1), SlideRef(blue, 2), SlideRef(green, 3), SlideRef(blue, 3)],
               str(deck))
    document = Path(make_docx(str(tmp_path / "brief.docx"), "Security brief",
                              ["# Scope", "What we cover.", PAGE_BREAK, "# Controls", "Encryption everywhere.",
                               PAGE_BREAK, "# Audits", "Yearly."]))
    marketer = factories.user("marketer")
    rep = auth.token(factories.user("rep"))
    workbook = Path(make_xlsx(str(tmp_path / "prices.xlsx"), {
        "Tiers": [["Tier", "Price"]] + [[f"Tier {n}", n * 10] for n in range(1, 120)],
        "Discounts": [["Seats", "Discount"], [100, "5%"], [500, "10%"]]}))
    versions = []
    for path, pages in ((deck, 5), (document, 3), (workbook, None)):
        asset = factories.asset(marketer, title=path.stem, filename=path.name, content=path.read_bytes())
        db.session.refresh(asset)
        version = asset.current_version
        assert version.processing == "ready", version.error
        assert version.preview_key == f"thumbnails/v{version.id}/preview.pdf"
        if pages is None:  # a workbook prints more pages than it has sheets
            pages = version.preview_pages
            assert pages > version.page_count == 2
        assert version.preview_pages == pages
        assert _pages_of_stored_pdf(version.preview_key, tmp_path) == pages
        response = client.get(f"/api/v1/assets/{asset.id}/preview", headers=rep)
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF")
        if path.suffix == ".pptx":
            assert version.page_count == pages  # a slide is a page: search hits deep-link right
        # Attention is checked against the pages the viewer shows.
        beacon = {"pages": [{"number": pages, "seconds": 2}]}
        assert client.post(f"/api/v1/assets/{asset.id}/attention", headers=rep, json=beacon).status_code == 204
        beacon = {"pages": [{"number": pages + 1, "seconds": 2}]}
        assert client.post(f"/api/v1/assets/{asset.id}/attention", headers=rep, json=beacon).status_code == 422
        versions.append(version)

    # Versions processed before the viewer existed have no rendition; `make-previews` queues
    # them (the tests' queue runs each job as it is queued; the worker does in production).
    deck_version = versions[0]
    get_storage().delete(deck_version.preview_key)
    deck_version.preview_key, deck_version.preview_pages = None, None
    db.session.commit()
    deck_preview = f"/api/v1/assets/{deck_version.asset_id}/preview"
    assert client.get(deck_preview, headers=rep).status_code == 404
    result = runner.invoke(args=["make-previews"])
    assert result.exit_code == 0 and "Queued 1 rendition" in result.output, result.output
    db.session.refresh(deck_version)
    assert deck_version.preview_pages == 5 and deck_version.processing == "ready"
    assert _pages_of_stored_pdf(deck_version.preview_key, tmp_path) == 5
    assert client.get(deck_preview, headers=rep).status_code == 200
    assert "Queued 0 rendition" in runner.invoke(args=["make-previews"]).output  # nothing left to do
