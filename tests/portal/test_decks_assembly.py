"""Issue 13, items 1 and 2: deck downloads are assembled off the request, in a
bounded child process, kept in storage per revision of the deck, leave no
temporary files, and a hostile deck is refused with its reason instead of
exhausting the web process."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import replace

import psutil
import pytest
from lxml import etree
from pptx import Presentation
from pptx.util import Inches
from sqlalchemy import func, select
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db
from portal.models import Asset, AssetVersion, Page, UsageEvent
from portal.storage import get_storage
from tests.portal.test_decks_api import PPTX_MIME, slide_titles
from tests.portal.test_decks_api import library as library  # noqa: F401  (the shared fixture)

A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"


def deck_dirs(root) -> list[str]:
    return sorted(name for name in os.listdir(root) if name.startswith("collateral-deck-"))


@pytest.fixture
def temp_root(tmp_path, monkeypatch):
    """The temp dir of this test alone, so other runs' work dirs do not count."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def build_rows(deck_id: int) -> list:
    from portal.models import DeckBuild

    db.session.expire_all()
    return list(db.session.scalars(select(DeckBuild).where(DeckBuild.deck_id == deck_id).order_by(DeckBuild.id)))


# --- item 1: no temporary directory is left behind ---------------------------------------------

def test_downloads_leave_no_temporary_directories(app, client, auth, library, temp_root):
    headers = auth.token(library["rep"])
    pa, pb = library["pa"], library["pb"]
    deck = client.post("/api/v1/decks", json={"title": "Leak", "page_ids": [pa[0].id, pb[1].id]},
                       headers=headers).get_json()
    orders = [[pa[0].id, pb[1].id], [pb[1].id, pa[0].id], [pa[2].id, pb[0].id, pa[0].id]]
    assert deck_dirs(temp_root) == []

    # Through the test client: three downloads, each of a changed deck (so each is assembled).
    for order in orders:
        assert client.put(f"/api/v1/decks/{deck['id']}", json={"title": "Leak", "page_ids": order},
                          headers=headers).status_code == 200
        response = client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers)
        assert response.status_code == 200 and response.mimetype == PPTX_MIME
        response.close()
    assert deck_dirs(temp_root) == []

    # Through a real HTTP server: the WSGI server closes the response as it does in production.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        for order in reversed(orders):
            request = urllib.request.Request(f"{base}/api/v1/decks/{deck['id']}", method="PUT",
                                             data=json.dumps({"title": "Leak", "page_ids": order + [pa[1].id]}).encode(),
                                             headers={**headers, "Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=120) as response:
                assert response.status == 200
            request = urllib.request.Request(f"{base}/api/v1/decks/{deck['id']}/download", headers=headers)
            with urllib.request.urlopen(request, timeout=120) as response:
                assert response.status == 200
                assert len(slide_titles(response.read())) == len(order) + 1
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert deck_dirs(temp_root) == []


# --- item 2: built by the queue, once per revision, with progress -------------------------------------

def test_an_unchanged_deck_is_served_from_storage_and_a_change_builds_a_new_revision(client, auth, library):
    headers = auth.token(library["rep"])
    pa, pb = library["pa"], library["pb"]
    deck = client.post("/api/v1/decks", json={"title": "Cached", "page_ids": [pb[0].id, pa[1].id]},
                       headers=headers).get_json()
    url = f"/api/v1/decks/{deck['id']}/download"
    first = client.get(url, headers=headers)
    assert first.status_code == 200 and slide_titles(first.data) == ["Deck B slide 1", "Deck A slide 2"]
    [build] = build_rows(deck["id"])
    assert build.status == "ready" and build.attempts == 1 and get_storage().exists(build.storage_key)
    first_key, first_revision = build.storage_key, build.revision

    second = client.get(url, headers=headers)
    assert second.status_code == 200 and second.data == first.data
    [again] = build_rows(deck["id"])
    # The same row, assembled once: a rebuild would have taken the lease again (attempts 2).
    assert (again.id, again.attempts, again.storage_key) == (build.id, 1, first_key)
    assert client.get(f"/api/v1/decks/{deck['id']}/build", headers=headers).get_json()["status"] == "ready"
    # Each download still counts: one deck inclusion per slide, per download.
    assert db.session.scalar(select(func.count()).select_from(UsageEvent).where(
        UsageEvent.kind == "deck_inclusion", UsageEvent.deck_id == deck["id"])) == 4

    client.put(f"/api/v1/decks/{deck['id']}", json={"title": "Cached", "page_ids": [pa[1].id]}, headers=headers)
    third = client.get(url, headers=headers)
    assert third.status_code == 200 and slide_titles(third.data) == ["Deck A slide 2"]
    [newest] = build_rows(deck["id"])
    assert newest.revision != first_revision and newest.status == "ready"
    assert not get_storage().exists(first_key)  # only the newest revision is kept

    # Deleting the deck removes its assembled file too.
    assert client.delete(f"/api/v1/decks/{deck['id']}", headers=headers).status_code == 204
    assert not get_storage().exists(newest.storage_key)


def test_download_answers_202_while_the_queue_builds_then_the_file(settings, library, auth, client):
    rep, pa = library["rep"], library["pa"]
    token = auth.token(rep)["Authorization"]
    # The same database on the embedded queue, its consumer not started yet: the build waits there.
    queued = create_app(replace(settings, queue_mode="embedded", deck_wait_seconds=0.3), TESTING=True,
                        WTF_CSRF_ENABLED=False, AUTO_MIGRATE=False, START_EMBEDDED_WORKER=False,
                        QUEUE_NAME=f"decks-{uuid.uuid4().hex[:8]}")
    client = queued.test_client()
    headers = {"Authorization": token}
    deck = client.post("/api/v1/decks", json={"title": "Later", "page_ids": [pa[2].id, pa[0].id]},
                       headers=headers).get_json()

    response = client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers)
    assert response.status_code == 202
    assert response.headers["Retry-After"] == "2"
    body = response.get_json()
    assert body["status"] == "pending" and body["progress"] == {"done": 0, "total": 2}
    assert body["download_url"].endswith(f"/api/v1/decks/{deck['id']}/download")
    assert client.get(f"/api/v1/decks/{deck['id']}/build", headers=headers).get_json()["status"] == "pending"

    # The page: the download link falls back to the deck page, which shows the progress in a live region.
    client.post("/login", data={"email": rep.email, "password": "correct-horse-battery"})
    page = client.get(f"/decks/{deck['id']}/download")
    assert page.status_code == 302 and page.location.endswith(f"/decks/{deck['id']}")
    html = client.get(f"/decks/{deck['id']}").get_data(as_text=True)
    assert "is being assembled" in html
    assert 'role="status" aria-live="polite" data-deck-build-status' in html
    assert "Assembling the deck: 0 of 2 slides" in html and 'data-state="pending"' in html
    assert client.get(f"/decks/{deck['id']}/build").get_json()["status"] == "pending"

    queued.extensions["collateral_queue"].start_embedded_consumer()
    deadline = time.monotonic() + 120
    status = "pending"
    while status in ("pending", "building") and time.monotonic() < deadline:
        time.sleep(0.3)
        status = client.get(f"/api/v1/decks/{deck['id']}/build", headers=headers).get_json()["status"]
    assert status == "ready"
    response = client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers)
    assert response.status_code == 200 and slide_titles(response.data) == ["Deck A slide 3", "Deck A slide 1"]


# --- item 2: the hostile deck ------------------------------------------------------------------------------

def hostile_pptx(path, xml_mb: float = 9) -> str:
    """One slide carrying about `xml_mb` MB of XML (runs of text), a small file once zipped."""
    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])
    slide.shapes.title.text = "Everything about pricing"
    box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(1))
    paragraph = box.text_frame.paragraphs[0]._p
    run = '<a:r><a:rPr lang="en-US" dirty="0"/><a:t>Lorem</a:t></a:r>'
    for _ in range(int(xml_mb * 2**20 / len(run))):
        element = etree.SubElement(paragraph, f"{{{A_NS}}}r")
        etree.SubElement(element, f"{{{A_NS}}}rPr", lang="en-US", dirty="0")
        etree.SubElement(element, f"{{{A_NS}}}t").text = "Lorem"
    presentation.save(str(path))
    return str(path)


def stored_deck_asset(owner, path: str, title: str) -> Page:
    """An asset whose current version is this .pptx, with its slides as pages (made here
    rather than by processing, which would render the hostile slide with LibreOffice)."""
    from assets.storage import safe_key

    key = safe_key("assets", uuid.uuid4().hex, "original.pptx")
    with open(path, "rb") as stream:
        stored = get_storage().save(key, stream, content_type=PPTX_MIME)
    asset = Asset(owner_id=owner.id, title=title, content_type="deck", status="published")
    db.session.add(asset)
    db.session.flush()
    version = AssetVersion(asset_id=asset.id, number=1, filename="hostile.pptx", storage_key=key, size=stored.size,
                           sha256=stored.sha256, mime=PPTX_MIME, kind="pptx", processing="ready", page_count=1)
    db.session.add(version)
    db.session.flush()
    asset.current_version_id = version.id
    page = Page(version_id=version.id, asset_id=asset.id, number=1, title="Everything about pricing", text="x")
    db.session.add(page)
    db.session.commit()
    return page


@pytest.fixture
def hostile(factories, tmp_path):
    path = hostile_pptx(tmp_path / "hostile.pptx")
    assert os.path.getsize(path) < 200 * 1024  # a small upload...
    marketer = factories.user("marketer")
    return {"page": stored_deck_asset(marketer, path, "Pricing bible"), "rep": factories.user("rep")}


def test_a_hostile_deck_is_refused_with_the_reason(client, auth, hostile):
    headers = auth.token(hostile["rep"])
    deck = client.post("/api/v1/decks", json={"title": "Sixty copies", "page_ids": [hostile["page"].id] * 60},
                       headers=headers).get_json()
    web = psutil.Process()
    before = web.memory_info().rss
    response = client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers)
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert message.startswith("The deck is too large: it would hold ")
    assert "more than the 256 MB a deck may hold" in message
    assert "“Pricing bible” slide 1 (9.0 MB, used 60 times)" in message
    assert web.memory_info().rss - before < 150 * 2**20  # ...never assembled in the web process

    status = client.get(f"/api/v1/decks/{deck['id']}/build", headers=headers).get_json()
    assert status["status"] == "failed" and status["error"] == message
    assert db.session.scalar(select(func.count()).select_from(UsageEvent).where(
        UsageEvent.kind == "deck_inclusion")) == 0
    # The page says the same.
    auth.login(hostile["rep"])
    page = client.get(f"/decks/{deck['id']}/download")
    assert page.status_code == 422 and "The deck is too large" in page.get_data(as_text=True)
    assert "The deck is too large" in client.get(f"/decks/{deck['id']}").get_data(as_text=True)
    # Fewer copies fit.
    client.put(f"/api/v1/decks/{deck['id']}", json={"title": "Two copies", "page_ids": [hostile["page"].id] * 2},
               headers=headers)
    response = client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers)
    assert response.status_code == 200 and len(slide_titles(response.data)) == 2


def test_past_the_size_check_the_assembling_child_is_stopped_at_its_memory_limit(app, client, auth, hostile):
    # Were the size limit lifted, the memory limit of the child still holds.
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], deck_max_mb=8192, deck_memory_mb=600)
    headers = auth.token(hostile["rep"])
    deck = client.post("/api/v1/decks", json={"title": "Sixty copies", "page_ids": [hostile["page"].id] * 60},
                       headers=headers).get_json()
    web = psutil.Process()
    before = web.memory_info().rss
    response = client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers)
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert message.startswith("The deck is too large: assembling it needed more memory than allowed (600 MB).")
    assert web.memory_info().rss - before < 150 * 2**20
    [build] = build_rows(deck["id"])
    assert build.status == "failed" and build.error_code == "too_large"


def test_deck_page_offers_the_download_with_a_live_status(client, auth, library):
    auth.login(library["rep"])
    deck_id = client.post("/decks/tray/add", json={"page_id": library["pa"][0].id}).get_json()["id"]
    html = client.get(f"/decks/{deck_id}").get_data(as_text=True)
    assert f'data-build-url="/decks/{deck_id}/build"' in html
    assert f'data-status-url="/decks/{deck_id}/build"' in html
    assert 'role="status" aria-live="polite"' in html and 'data-state="none"' in html
    assert client.get(f"/decks/{deck_id}/build").get_json()["status"] == "none"
    started = client.post(f"/decks/{deck_id}/build").get_json()
    assert started["status"] == "ready" and started["download_url"] == f"/decks/{deck_id}/download"
    response = client.get(started["download_url"])
    assert response.status_code == 200 and slide_titles(response.data) == ["Deck A slide 1"]


def test_a_build_without_its_source_file_fails_with_the_reason(client, auth, library):
    headers = auth.token(library["rep"])
    deck = client.post("/api/v1/decks", json={"title": "Missing", "page_ids": [library["pa"][0].id]},
                       headers=headers).get_json()
    get_storage().delete(library["a"].current_version.storage_key)
    response = client.get(f"/api/v1/decks/{deck['id']}/download", headers=headers)
    assert response.status_code == 422
    assert "missing from storage" in response.get_json()["error"]["message"]
    [build] = build_rows(deck["id"])
    assert build.storage_key is None and build.error_code == "missing"
