"""The collateral library through the browser-facing routes."""

from __future__ import annotations

import io
from datetime import date, timedelta

from portal.extensions import db
from portal.models import Asset, AssetVersion, RetirementEvent, UsageEvent


def upload(client, data: bytes = b"%PDF-1.4 demo", filename="pricing.pdf", **fields):
    form = {"title": "Pricing overview", "content_type": "deck", "product": "Platform", "stage": "proposal",
            "region": "EMEA", "persona": "CFO", "tags": "pricing, healthcare", **fields}
    form["file"] = (io.BytesIO(data), filename)
    return client.post("/assets/new", data=form, content_type="multipart/form-data")


def test_marketer_uploads_with_metadata(client, auth, factories):
    marketer = factories.user("marketer")
    auth.login(marketer)
    response = upload(client)
    assert response.status_code == 302
    asset = db.session.scalars(db.select(Asset)).one()
    assert (asset.title, asset.content_type, asset.product, asset.tags) == (
        "Pricing overview", "deck", "Platform", ["healthcare", "pricing"])
    version = asset.current_version
    assert version.number == 1 and version.size == len(b"%PDF-1.4 demo") and len(version.sha256) == 64
    page = client.get(response.location)
    assert b"Pricing overview" in page.data


def test_upload_shows_duplicate(client, auth, factories):
    """Issue 15: the same file as another item's current file is caught before anything is
    made; the page offers a new version of it, keeping both, or cancelling."""
    auth.login(factories.user("marketer"))
    first = client.get(upload(client, title="First").location)
    assert first.status_code == 200
    response = upload(client, title="Second")
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "This file is already the current file of" in text and "First" in text
    assert "Publish as a new version of it" in text and "Keep both" in text and "Cancel" in text
    assert db.session.scalar(db.select(db.func.count()).select_from(Asset)) == 1
    kept = upload(client, title="Second", allow_duplicate="true")
    assert kept.status_code == 302
    assert "Kept both" in client.get(kept.location).get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Asset)) == 2


def test_library_filters_sort_and_pagination(client, auth, factories):
    marketer = factories.user("marketer")
    for n in range(30):
        factories.asset(marketer, title=f"Deck {n:02d}", content_type="deck" if n % 2 else "datasheet",
                        region="EMEA" if n < 10 else "NA")
    auth.login(factories.user("rep"))
    page = client.get("/library?content_type=deck&region=NA&sort=title&per_page=5")
    text = page.get_data(as_text=True)
    assert "10 items" in text and "Deck 11" in text and "Deck 13" in text and "Deck 10" not in text
    assert "Page 1 of 2" in text
    second = client.get("/library?content_type=deck&region=NA&sort=title&per_page=5&page=2").get_data(as_text=True)
    assert "Deck 29" in second and "Deck 11" not in second


def test_new_version_keeps_history(client, auth, factories):
    marketer = factories.user("marketer")
    asset = factories.asset(marketer, content=b"version one")
    auth.login(marketer)
    response = client.post(f"/assets/{asset.id}/versions",
                           data={"file": (io.BytesIO(b"version two"), "v2.txt")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    db.session.refresh(asset)
    assert asset.current_version.number == 1 and asset.pending_version.number == 2  # a draft version (issue 15)
    assert client.post(f"/assets/{asset.id}/publish").status_code == 302
    db.session.refresh(asset)
    assert asset.current_version.number == 2
    assert client.get(f"/assets/{asset.id}/download?version=1").data == b"version one"
    assert client.get(f"/assets/{asset.id}/download").data == b"version two"
    auth.logout()
    auth.login(factories.user("rep"))
    assert client.get(f"/assets/{asset.id}/download").data == b"version two"
    assert client.get(f"/assets/{asset.id}/download?version=1").status_code == 404


def test_retire_and_restore_hide_from_reps_and_keep_history(client, auth, factories):
    marketer = factories.user("marketer")
    rep = factories.user("rep")
    asset = factories.asset(marketer, title="Old pricing")
    auth.login(marketer)
    assert client.post(f"/assets/{asset.id}/retire", data={"reason": "Superseded by 2027 pricing"}).status_code == 302
    auth.logout()
    auth.login(rep)
    assert client.get(f"/assets/{asset.id}").status_code == 404
    assert client.get(f"/assets/{asset.id}/download").status_code == 404
    assert "Old pricing" not in client.get("/library").get_data(as_text=True)
    auth.logout()
    auth.login(marketer)
    page = client.get(f"/assets/{asset.id}").get_data(as_text=True)
    assert "Superseded by 2027 pricing" in page
    assert client.post(f"/assets/{asset.id}/restore").status_code == 302
    events = db.session.scalars(db.select(RetirementEvent.action).order_by(RetirementEvent.id)).all()
    assert events == ["retired", "restored"]
    auth.logout()
    auth.login(rep)
    assert client.get(f"/assets/{asset.id}").status_code == 200


def test_retire_needs_reason(client, auth, factories):
    marketer = factories.user("marketer")
    asset = factories.asset(marketer)
    auth.login(marketer)
    client.post(f"/assets/{asset.id}/retire", data={"reason": "  "})
    assert db.session.get(Asset, asset.id).status == "published"


def test_expired_assets_are_hidden_from_reps(client, auth, factories):
    marketer = factories.user("marketer")
    expired = factories.asset(marketer, title="Expired sheet", expires_on=(date.today() - timedelta(days=1)).isoformat())
    current = factories.asset(marketer, title="Valid sheet", expires_on=(date.today() + timedelta(days=30)).isoformat())
    auth.login(factories.user("rep"))
    assert client.get(f"/assets/{expired.id}").status_code == 404
    assert client.get(f"/assets/{current.id}").status_code == 200
    auth.logout()
    auth.login(marketer)
    assert "Expired" in client.get(f"/assets/{expired.id}").get_data(as_text=True)


def test_downloads_and_views_are_recorded(client, auth, factories):
    asset = factories.asset(content=b"hello", filename="hello.txt")
    rep = factories.user("rep")
    auth.login(rep)
    client.get(f"/assets/{asset.id}")
    response = client.get(f"/assets/{asset.id}/download")
    assert response.data == b"hello"
    assert "attachment" in response.headers["Content-Disposition"] and "hello.txt" in response.headers["Content-Disposition"]
    assert response.mimetype == "text/plain"
    events = db.session.execute(db.select(UsageEvent.kind, UsageEvent.user_id, UsageEvent.version_id)).all()
    assert sorted(events) == sorted([("view", rep.id, asset.current_version_id), ("download", rep.id, asset.current_version_id)])


def test_rep_cannot_open_upload_page(client, auth, factories):
    auth.login(factories.user("rep"))
    assert client.get("/assets/new").status_code == 403
    assert upload(client).status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(AssetVersion)) == 0


def test_edit_metadata_validates(client, auth, factories):
    marketer = factories.user("marketer")
    asset = factories.asset(marketer)
    auth.login(marketer)
    bad = client.post(f"/assets/{asset.id}/edit", data={"title": "", "content_type": "poster"})
    assert bad.status_code == 422
    assert "A title is required" in bad.get_data(as_text=True)
    good = client.post(f"/assets/{asset.id}/edit", data={"title": "Renamed", "content_type": "battlecard", "tags": "a, b"})
    assert good.status_code == 302
    asset = db.session.get(Asset, asset.id)
    assert (asset.title, asset.content_type, asset.tags) == ("Renamed", "battlecard", ["a", "b"])
