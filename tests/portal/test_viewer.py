"""Reading in the browser (issue 16): the PDF the viewer shows (`preview`), inline media,
and page-level attention beacons (API with a bearer token, page with session and CSRF)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assets.sample_files import make_pdf
from portal.extensions import db
from portal.models import AssetVersion, PageAttention


@pytest.fixture
def guide(factories, tmp_path):
    """A published three-page PDF."""
    pdf = Path(make_pdf(str(tmp_path / "guide.pdf"), [
        {"title": f"Chapter {n}", "lines": [f"hospital pricing, part {n}"]} for n in (1, 2, 3)]))
    asset = factories.asset(factories.user("marketer"), title="Hospital guide", filename="guide.pdf",
                            content=pdf.read_bytes())
    db.session.refresh(asset)
    assert asset.current_version.processing == "ready" and asset.current_version.page_count == 3
    return asset, pdf.read_bytes()


def _attention(asset_id: int) -> dict[tuple[int, int], float]:
    rows = db.session.scalars(select(PageAttention).where(PageAttention.asset_id == asset_id))
    return {(row.user_id, row.number): row.seconds for row in rows}


def test_preview_of_a_pdf_is_the_pdf_itself_with_byte_ranges(client, factories, auth, guide):
    asset, content = guide
    rep = auth.token(factories.user("rep"))
    response = client.get(f"/api/v1/assets/{asset.id}/preview", headers=rep)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data == content
    assert not response.headers.get("Content-Disposition", "").startswith("attachment")
    # PDF.js asks for ranges: the first page shows before the whole file arrives.
    ranged = client.get(f"/api/v1/assets/{asset.id}/preview", headers={**rep, "Range": "bytes=0-99"})
    assert ranged.status_code == 206
    assert ranged.data == content[:100]
    assert ranged.headers["Content-Range"] == f"bytes 0-99/{len(content)}"


def test_preview_is_404_while_there_is_none_and_for_unknown_or_hidden_items(client, factories, auth, guide):
    asset, _ = guide
    rep_user = factories.user("rep")
    rep = auth.token(rep_user)
    note = factories.asset(title="Plain note", filename="note.txt", content=b"just words\n")
    missing = client.get(f"/api/v1/assets/{note.id}/preview", headers=rep)
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/assets/999999/preview", headers=rep).status_code == 404
    assert client.get(f"/api/v1/assets/{asset.id}/preview").status_code == 401
    from portal.library.services import retire_assets

    retire_assets([asset], None, "superseded")
    assert client.get(f"/api/v1/assets/{asset.id}/preview", headers=rep).status_code == 404
    staff = auth.token(factories.user("enablement"))
    assert client.get(f"/api/v1/assets/{asset.id}/preview", headers=staff).status_code == 200


def test_attention_beacons_add_up_per_user_page_and_day(client, factories, auth, guide):
    asset, _ = guide
    rosa, sam = factories.user("rep"), factories.user("rep")
    url = f"/api/v1/assets/{asset.id}/attention"
    for body in ({"pages": [{"number": 1, "seconds": 12.5}, {"number": 2, "seconds": 3}]},
                 {"pages": [{"number": 1, "seconds": 7.5}, {"number": 1, "seconds": 1}]}):
        response = client.post(url, headers=auth.token(rosa), json=body)
        assert response.status_code == 204, response.get_json()
    assert client.post(url, headers=auth.token(sam), json={"pages": [{"number": 3, "seconds": 40}]}).status_code == 204
    assert _attention(asset.id) == {(rosa.id, 1): 21.0, (rosa.id, 2): 3.0, (sam.id, 3): 40.0}
    # One row per user, page and day, however many beacons.
    rows = db.session.scalars(select(PageAttention).where(PageAttention.user_id == rosa.id)).all()
    assert len(rows) == 2 and {row.day for row in rows} == {date.today()}
    assert {row.version_id for row in rows} == {asset.current_version_id}


@pytest.mark.parametrize(("body", "status"), [
    ({"pages": [{"number": 4, "seconds": 5}]}, 422),          # past the last page
    ({"pages": [{"number": 0, "seconds": 5}]}, 422),
    ({"pages": [{"number": 1, "seconds": 0}]}, 422),
    ({"pages": [{"number": 1, "seconds": -3}]}, 422),
    ({"pages": [{"number": 1, "seconds": 86_400}]}, 422),     # absurd: a day on one page in one beacon
    ({"pages": [{"number": 1, "seconds": 1e308}]}, 422),
    ({"pages": [{"number": 10 ** 30, "seconds": 5}]}, 422),
    ({"pages": [{"number": True, "seconds": 5}]}, 422),
    ({"pages": [{"number": "1", "seconds": 5}]}, 422),
    ({"pages": [{"number": 1, "seconds": "5"}]}, 422),
    ({"pages": [1, 2]}, 422),
    ({"pages": []}, 422),
    ({"pages": [{"number": 1, "seconds": 1}] * 201}, 422),   # more pages than a beacon may carry
    ({"seconds": 5}, 422),
    ([1, 2], 400),
])
def test_attention_refuses_bad_beacons(client, factories, auth, guide, body, status):
    asset, _ = guide
    response = client.post(f"/api/v1/assets/{asset.id}/attention", headers=auth.token(factories.user("rep")),
                           json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert _attention(asset.id) == {}


def test_attention_bad_json_unknown_items_and_items_without_pages(client, factories, auth, guide):
    asset, _ = guide
    rep = auth.token(factories.user("rep"))
    broken = client.post(f"/api/v1/assets/{asset.id}/attention", headers={**rep, "Content-Type": "application/json"},
                         data="{not json")
    assert broken.status_code == 400
    beacon = {"pages": [{"number": 1, "seconds": 5}]}
    assert client.post("/api/v1/assets/999999/attention", headers=rep, json=beacon).status_code == 404
    assert client.post(f"/api/v1/assets/{asset.id}/attention", json=beacon).status_code == 401
    note = factories.asset(title="Plain note", filename="note.txt", content=b"just words\n")
    pageless = client.post(f"/api/v1/assets/{note.id}/attention", headers=rep, json=beacon)
    assert pageless.status_code == 422 and "no pages" in pageless.get_json()["error"]["message"]


def test_attention_is_rate_bound_per_user(client, factories, auth, guide):
    asset, _ = guide
    rep, other = auth.token(factories.user("rep")), auth.token(factories.user("rep"))
    beacon = {"pages": [{"number": 1, "seconds": 1}]}
    url = f"/api/v1/assets/{asset.id}/attention"
    statuses = [client.post(url, headers=rep, json=beacon).status_code for _ in range(61)]
    assert statuses[:60] == [204] * 60
    refused = client.post(url, headers=rep, json=beacon)
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert "attention beacons" in refused.get_json()["error"]["message"]
    assert client.post(url, headers=other, json=beacon).status_code == 204


def test_a_users_day_on_one_page_is_capped(client, factories, auth, guide):
    from portal.viewer.attention import MAX_SECONDS_PER_DAY, MAX_SECONDS_PER_PAGE, record

    asset, _ = guide
    rep = factories.user("rep")
    for _ in range(int(MAX_SECONDS_PER_DAY / MAX_SECONDS_PER_PAGE) + 3):
        record(rep, asset, {"pages": [{"number": 2, "seconds": MAX_SECONDS_PER_PAGE}]})
    assert _attention(asset.id) == {(rep.id, 2): MAX_SECONDS_PER_DAY}


def test_page_beacon_needs_the_session_and_its_csrf_token(app, factories, guide):
    asset, _ = guide
    rep = factories.user("rep")
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    page = client.get("/login")
    token = page.get_data(as_text=True).split('name="csrf-token" content="')[1].split('"')[0]
    client.post("/login", data={"email": rep.email, "password": "correct-horse-battery", "csrf_token": token})
    viewer = client.get(f"/assets/{asset.id}/view?page=2&q=pricing")
    assert viewer.status_code == 200
    html = viewer.get_data(as_text=True)
    token = html.split('name="csrf-token" content="')[1].split('"')[0]
    assert f'data-beacon-url="/assets/{asset.id}/attention"' in html
    assert 'data-start-page="2"' in html and 'data-terms="pricing"' in html
    beacon = {"pages": [{"number": 2, "seconds": 9}]}
    url = f"/assets/{asset.id}/attention"
    assert client.post(url, json=beacon).status_code == 400  # no CSRF token
    assert client.post(url, json=beacon, headers={"X-CSRFToken": token}).status_code == 204
    # navigator.sendBeacon cannot set headers: a form with the token and the JSON.
    sent = client.post(url, data={"csrf_token": token, "pages": json.dumps({"pages": [{"number": 3, "seconds": 4}]})})
    assert sent.status_code == 204
    bad = client.post(url, data={"csrf_token": token, "pages": "[[[["})
    assert bad.status_code == 400
    assert _attention(asset.id) == {(rep.id, 2): 9.0, (rep.id, 3): 4.0}


def test_viewer_page_for_each_kind_of_item(client, factories, auth, guide, tmp_path):
    asset, _ = guide
    rep = factories.user("rep")
    auth.login(rep)
    html = client.get(f"/assets/{asset.id}/view?page=99").get_data(as_text=True)
    assert f'data-src="/assets/{asset.id}/preview.pdf"' in html and 'data-start-page="1"' in html
    assert client.get(f"/assets/{asset.id}/view?page=abc").status_code == 200
    assert client.get(f"/assets/{asset.id}/view?page={10 ** 30}").status_code in (200, 400)
    pdf = client.get(f"/assets/{asset.id}/preview.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    note = factories.asset(title="Plain note", filename="note.txt", content=b"just words\n")
    page = client.get(f"/assets/{note.id}/view")
    assert page.status_code == 200 and "cannot be shown in the browser" in page.get_data(as_text=True)
    assert client.get(f"/assets/{note.id}/media").status_code == 404
    assert client.get("/assets/999999/view").status_code == 404


def test_videos_play_with_byte_ranges_and_images_show_inline(client, factories, auth):
    # An MP4 starts with an ftyp box; that is all inspection needs to call it a video.
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(range(256)) * 64
    clip = factories.asset(title="Demo clip", filename="demo.mp4", content=video)
    db.session.refresh(clip)
    assert clip.current_version.kind == "video"
    auth.login(factories.user("rep"))
    html = client.get(f"/assets/{clip.id}/view").get_data(as_text=True)
    assert f'<video controls preload="metadata" src="/assets/{clip.id}/media"' in html
    ranged = client.get(f"/assets/{clip.id}/media", headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.data == video[100:200]
    assert ranged.mimetype == "video/mp4"
    from assets.sample_files import _png_bytes

    picture = factories.asset(title="Team photo", filename="team.png", content=_png_bytes().getvalue())
    db.session.refresh(picture)
    assert picture.current_version.kind == "image"
    html = client.get(f"/assets/{picture.id}/view").get_data(as_text=True)
    assert f'<img src="/assets/{picture.id}/media" alt="Team photo"' in html
    image = client.get(f"/assets/{picture.id}/media")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")


def test_preview_and_media_on_s3_redirect_to_presigned_urls(settings, seaweedfs_s3, s3_bucket_on_seaweedfs,
                                                            tmp_path):
    import urllib.request
    from dataclasses import replace

    from portal import create_app

    settings = replace(settings, storage_backend="s3", s3_bucket=s3_bucket_on_seaweedfs,
                       s3_endpoint_url=seaweedfs_s3["endpoint_url"], s3_prefix="viewer-test")
    app = create_app(settings, TESTING=True, WTF_CSRF_ENABLED=False, AUTO_MIGRATE=False,
                     START_EMBEDDED_WORKER=False)
    client = app.test_client()
    content = Path(make_pdf(str(tmp_path / "s3.pdf"), [{"title": "One", "lines": ["first"]},
                                                        {"title": "Two", "lines": ["second"]}])).read_bytes()
    with app.app_context():
        from portal.admin.services import save_user
        from portal.library.services import create_asset

        marketer, _ = save_user("s3-viewer-marketer@example.com", role="marketer", password="correct-horse-battery")
        save_user("s3-viewer-rep@example.com", role="rep", password="correct-horse-battery")
        asset_id = create_asset(marketer, open(tmp_path / "s3.pdf", "rb"), "s3.pdf", {"title": "On S3"},
                                10 ** 8).asset.id
        assert db.session.scalar(select(AssetVersion.processing).where(AssetVersion.asset_id == asset_id)) == "ready"
    token = client.post("/api/v1/tokens", json={"email": "s3-viewer-rep@example.com",
                                                "password": "correct-horse-battery"}).get_json()["token"]
    response = client.get(f"/api/v1/assets/{asset_id}/preview", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(seaweedfs_s3["endpoint_url"]) and "X-Amz-Expires=" in location
    with urllib.request.urlopen(location, timeout=10) as remote:
        assert remote.read() == content
        assert remote.headers["Content-Type"] == "application/pdf"
    # PDF.js reads it from script, across origins, in byte ranges.
    ranged = urllib.request.Request(location, headers={"Origin": "http://portal.example", "Range": "bytes=0-99"})
    with urllib.request.urlopen(ranged, timeout=10) as remote:
        assert remote.status == 206 and remote.read() == content[:100]
        assert remote.headers["Access-Control-Allow-Origin"] in ("*", "http://portal.example")
    # The viewer's page route (session) redirects the same way; the CSP lets the page fetch it.
    client.post("/login", data={"email": "s3-viewer-rep@example.com", "password": "correct-horse-battery"})
    page_route = client.get(f"/assets/{asset_id}/preview.pdf")
    assert page_route.status_code == 302 and page_route.headers["Location"].startswith(seaweedfs_s3["endpoint_url"])
    assert seaweedfs_s3["endpoint_url"].rstrip("/") in page_route.headers["Content-Security-Policy"]
    assert "worker-src 'self'" in page_route.headers["Content-Security-Policy"]


def test_asset_analytics_show_attention_per_page_with_a_csv(client, factories, auth, guide):
    asset, _ = guide
    rosa, sam = factories.user("rep"), factories.user("rep")
    url = f"/api/v1/assets/{asset.id}/attention"
    client.post(url, headers=auth.token(rosa), json={"pages": [{"number": 1, "seconds": 30}, {"number": 3, "seconds": 95}]})
    client.post(url, headers=auth.token(sam), json={"pages": [{"number": 1, "seconds": 10}]})
    auth.login(rosa)
    assert client.get(f"/analytics/assets/{asset.id}").status_code == 403
    assert client.get(f"/analytics/assets/{asset.id}/attention.csv").status_code == 403
    auth.logout()
    auth.login(factories.user("marketer"))
    html = client.get(f"/analytics/assets/{asset.id}").get_data(as_text=True)
    table = html.split('data-testid="attention-table"')[1].split("</table>")[0]
    rows = [[cell.split(">", 1)[1] for cell in row.split("</td>")[:-1]] for row in table.split("<tr>")[2:]]
    assert rows == [["1", "Chapter 1", "40 s", "2", "20 s"], ["2", "Chapter 2", "0 s", "0", "–"],
                    ["3", "Chapter 3", "1 min 35 s", "1", "1 min 35 s"]]
    assert '"seconds": [40.0, 0.0, 95.0]' in html
    export = client.get(f"/analytics/assets/{asset.id}/attention.csv")
    assert export.mimetype == "text/csv"
    assert export.get_data(as_text=True).splitlines() == [
        "page,title,seconds,readers,average_seconds_per_reader", "1,Chapter 1,40.0,2,20.0",
        "2,Chapter 2,0.0,0,0.0", "3,Chapter 3,95.0,1,95.0"]
    unread = factories.asset(title="Unread", filename="unread.pdf",
                             content=make_pdf_bytes())
    assert 'data-testid="no-attention"' in client.get(f"/analytics/assets/{unread.id}").get_data(as_text=True)


def make_pdf_bytes() -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return Path(make_pdf(f"{folder}/x.pdf", [{"title": "Only", "lines": ["one page"]}])).read_bytes()


def test_asset_answers_carry_a_fetchable_preview_url(client, factories, auth, guide):
    asset, content = guide
    rep = auth.token(factories.user("rep"))
    body = client.get(f"/api/v1/assets/{asset.id}", headers=rep).get_json()
    assert body["preview_url"] == f"/api/v1/assets/{asset.id}/preview"
    assert client.get(body["preview_url"], headers=rep).data == content
    note = factories.asset(title="Plain note", filename="note.txt", content=b"just words\n")
    assert client.get(f"/api/v1/assets/{note.id}", headers=rep).get_json()["preview_url"] is None


def _views(asset_id: int) -> dict[int, int]:
    from portal.models import UsageEvent

    rows = db.session.scalars(select(UsageEvent).where(UsageEvent.asset_id == asset_id, UsageEvent.kind == "view"))
    counted: dict[int, int] = {}
    for row in rows:
        counted[row.user_id] = counted.get(row.user_id, 0) + 1
    return counted


def test_opening_the_asset_page_then_reading_it_is_one_view_per_person_and_window(client, factories, auth, guide):
    from datetime import timedelta

    from portal.library.services import VIEW_WINDOW
    from portal.models import RecentView, UsageEvent

    asset, _ = guide
    rosa, sam = factories.user("rep"), factories.user("rep")
    auth.login(rosa)
    assert client.get(f"/assets/{asset.id}").status_code == 200
    assert client.get(f"/assets/{asset.id}/view?page=2").status_code == 200
    assert client.get(f"/assets/{asset.id}/view").status_code == 200  # a reload
    assert _views(asset.id) == {rosa.id: 1}
    assert db.session.scalar(select(RecentView.asset_id).where(RecentView.user_id == rosa.id)) == asset.id
    # Back after the window: a second reading.
    for event in db.session.scalars(select(UsageEvent).where(UsageEvent.asset_id == asset.id)):
        event.occurred_at -= VIEW_WINDOW + timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"/assets/{asset.id}/view").status_code == 200
    assert client.get(f"/assets/{asset.id}").status_code == 200
    assert _views(asset.id) == {rosa.id: 2}
    auth.logout()
    auth.login(sam)  # someone else reading it in the same minutes is counted
    assert client.get(f"/assets/{asset.id}/view").status_code == 200
    assert _views(asset.id) == {rosa.id: 2, sam.id: 1}
    # Downloads are not views and are each counted.
    for _ in range(2):
        assert client.get(f"/assets/{asset.id}/download").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(UsageEvent).where(
        UsageEvent.asset_id == asset.id, UsageEvent.kind == "download")) == 2
