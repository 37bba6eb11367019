"""Issue 15 through the pages: uploads start as drafts, a form sent twice makes one
item, the publish / review / verify buttons, the approvals queue, the content-type
settings, bulk edit; owners' review reminders with a real SMTP server; the migration."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import create_engine, select, text

from portal.extensions import db
from portal.governance import verification
from portal.models import Asset, AssetAudit, ContentTypePolicy, Notification
from tests.portal.test_retirement import smtp_server  # noqa: F401 (the fixture: a real aiosmtpd server)

TOKEN = "form-token-0123456789abcdef"


def upload(client, data=b"hello reps", filename="pricing.txt", **fields):
    form = {"title": "Pricing overview", "upload_token": TOKEN, **fields, "file": (io.BytesIO(data), filename)}
    return client.post("/assets/new", data=form, content_type="multipart/form-data")


def test_upload_is_a_draft_published_from_its_page(client, auth, factories):
    marketer, rep = factories.user("marketer"), factories.user("rep")
    auth.login(marketer)
    form = client.get("/assets/new").get_data(as_text=True)
    assert re.search(r'name="upload_token" value="[\w-]{16,}"', form) and "From the file" in form
    first, second = upload(client), upload(client)  # the same form, sent twice
    assert first.status_code == second.status_code == 302 and first.location == second.location
    asset = db.session.scalars(select(Asset)).one()
    assert (asset.status, asset.content_type) == ("draft", "other")
    page = client.get(first.location).get_data(as_text=True)
    assert "was uploaded once already" in page and 'data-testid="publish"' in page and "ready" in page
    auth.logout()
    auth.login(rep)
    assert client.get(first.location).status_code == 404
    auth.logout()
    auth.login(marketer)
    assert client.post(f"/assets/{asset.id}/publish", data={"publish_on": "2001-01-01"}).status_code == 302
    assert "in the past" in client.get(first.location).get_data(as_text=True)
    assert db.session.get(Asset, asset.id).status == "draft"
    client.post(f"/assets/{asset.id}/publish")
    page = client.get(first.location).get_data(as_text=True)
    assert db.session.get(Asset, asset.id).status == "published" and 'data-testid="verify"' in page
    assert "Verified today" in page and 'data-testid="history"' in page
    auth.logout()
    auth.login(rep)
    page = client.get(first.location).get_data(as_text=True)
    assert "Verified today" in page and 'data-testid="governance"' not in page


def test_publishing_a_failed_item_asks_for_confirmation(client, auth, factories):
    auth.login(factories.user("marketer"))
    location = upload(client, data=b"not a pdf at all", filename="broken.pdf").location
    asset = db.session.scalars(select(Asset)).one()
    assert asset.current_version.processing == "failed"
    page = client.get(location).get_data(as_text=True)
    assert 'name="confirm" value="1" required' in page and "Processing failed:" in page
    client.post(f"/assets/{asset.id}/publish")
    assert "Publish anyway? (send confirm=true)" in client.get(location).get_data(as_text=True)
    assert db.session.get(Asset, asset.id).status == "draft"
    client.post(f"/assets/{asset.id}/publish", data={"confirm": "1"})
    assert db.session.get(Asset, asset.id).status == "published"
    assert "Reps see it once its file is processed (processing failed" in client.get(location).get_data(as_text=True)


def test_duplicate_page_offers_a_new_version(client, auth, factories):
    auth.login(factories.user("marketer"))
    original = factories.asset(title="Pricing 2026", content=b"same bytes")
    refused = upload(client, data=b"same bytes", title="Pricing again")
    assert refused.status_code == 409 and "Pricing 2026" in refused.get_data(as_text=True)
    as_version = upload(client, data=b"same bytes", as_version_of=str(original.id))
    assert as_version.status_code == 302 and as_version.location.endswith(f"/assets/{original.id}")
    db.session.expire_all()
    item = db.session.get(Asset, original.id)
    assert item.pending_version.number == 2 and item.pending_publish == "hold" and item.current_version.number == 1
    assert db.session.scalar(select(db.func.count()).select_from(Asset)) == 1


def test_approvals_queue_content_types_and_bulk_edit(client, auth, factories):
    admin, marketer, reviewer = factories.user("admin"), factories.user("marketer"), factories.user("enablement")
    auth.login(admin)
    settings = client.get("/admin/content-types").get_data(as_text=True)
    assert 'name="price_sheet_review_days" value="90"' in settings
    bad = client.post("/admin/content-types", data={"deck_review_days": "0"})
    assert bad.status_code == 422 and "Between 1 and 3650 days" in bad.get_data(as_text=True)
    form = {f"{t}_review_days": "180" for t in ("deck", "case_study", "datasheet", "battlecard", "one_pager",
                                                "video", "other")}
    assert client.post("/admin/content-types", data={**form, "price_sheet_review_days": "60",
                                                     "deck_approval": "1"}).status_code == 302
    assert db.session.get(ContentTypePolicy, "deck").requires_approval
    auth.logout()

    auth.login(marketer)
    asset = factories.asset(marketer, title="Q3 deck", content_type="deck", publish="draft")
    client.post(f"/assets/{asset.id}/publish")
    assert db.session.get(Asset, asset.id).status == "in_review"
    assert "Waiting for another marketer" in client.get(f"/assets/{asset.id}").get_data(as_text=True)
    auth.logout()
    auth.login(reviewer)
    queue = client.get("/approvals").get_data(as_text=True)
    assert "Q3 deck" in queue and 'data-testid="badge-governance.approvals">1<' in queue
    assert client.post(f"/assets/{asset.id}/send-back", data={"comment": ""}).status_code == 302
    assert db.session.get(Asset, asset.id).status == "in_review"  # a comment is required
    client.post(f"/assets/{asset.id}/approve", data={"next": "/approvals"})
    assert db.session.get(Asset, asset.id).status == "published"
    assert "Nothing waits for your review" in client.get("/approvals").get_data(as_text=True)
    auth.logout()

    auth.login(marketer)
    other = factories.asset(marketer, title="Datasheet")
    library = client.get("/library").get_data(as_text=True)
    assert 'form="bulk-edit"' in library and 'data-testid="bulk-edit"' in library
    response = client.post("/library/bulk-edit", data={"asset_ids": [str(asset.id), str(other.id)], "region": "EMEA",
                                                       "add_tags": "q3", "next": "/library?sort=title"})
    assert response.status_code == 302 and response.location.endswith("/library?sort=title")
    assert [a.region for a in db.session.scalars(select(Asset).order_by(Asset.id))] == ["EMEA", "EMEA"]
    entries = db.session.scalars(select(AssetAudit).where(AssetAudit.action == "bulk_edited")).all()
    assert sorted((e.asset_id, e.field) for e in entries) == sorted(
        [(asset.id, "region"), (asset.id, "tags"), (other.id, "region"), (other.id, "tags")])
    nothing = client.post("/library/bulk-edit", data={"region": "NA"})
    assert nothing.status_code == 302
    assert "Select at least one item" in client.get("/library").get_data(as_text=True)


def test_review_reminders_in_the_app_and_by_email(app, factories, smtp_server):  # noqa: F811
    port, messages = smtp_server
    owner = factories.user("marketer", email="owner@example.com")
    today = date(2027, 6, 1)
    due = {}
    for title, days in (("Price sheet EMEA", 10), ("Battlecard", -3), ("Far away", 40)):
        asset = factories.asset(owner, title=title)
        asset.review_by = today + timedelta(days=days)
        due[title] = asset
    db.session.commit()
    settings = replace(app.config["SETTINGS"], smtp_host="127.0.0.1", smtp_port=port, smtp_from="portal@example.com")

    report = verification.send_reminders(settings, today=today)
    assert sorted(report.reminded) == sorted([due["Price sheet EMEA"].id, due["Battlecard"].id])
    assert (report.owners, report.emails_sent) == (1, 1)
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == owner.id)).all()
    assert note.message.startswith("2 of your items need verifying: “Battlecard” (review by 2027-05-29, 3 days overdue)")
    assert "“Price sheet EMEA” (review by 2027-06-11, in 10 days)" in note.message
    [(recipients, content)] = messages
    assert recipients == ["owner@example.com"] and "Subject: 2 items due for review" in content

    assert verification.send_reminders(settings, today=today).reminded == []  # once per review-by date
    verification.verify(due["Battlecard"], owner, today=today)
    assert db.session.get(Asset, due["Battlecard"].id).review_by == today + timedelta(days=180)
    assert verification.send_reminders(settings, today=today + timedelta(days=31)).reminded == [due["Far away"].id]


def test_existing_items_migrate(database_template, tmp_path):
    """0011 on data made before it: items stay published or retired, count as published when
    created, and get review-by dates from their age (last update + 90 days for price sheets,
    180 for the rest)."""
    from alembic import command

    from portal.database import alembic_config

    url = database_template if "://" in database_template else f"sqlite:///{tmp_path / 'migrate.db'}"
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            if connection.dialect.name == "sqlite":
                command.upgrade(config, "0010")
            else:
                connection.execute(text("TRUNCATE assets, users RESTART IDENTITY CASCADE"))
                command.downgrade(config, "0010")
            connection.execute(text("INSERT INTO users (id, email, name, password_hash, role, active, created_at, "
                                    "session_token) VALUES (1, 'm@example.com', '', 'x', 'marketer', true, :t, 'tok')"),
                               {"t": datetime(2025, 1, 1)})
            for asset_id, content_type, status, updated in ((1, "price_sheet", "published", datetime(2026, 1, 10, 15)),
                                                            (2, "deck", "retired", datetime(2025, 3, 1, 9))):
                connection.execute(text(
                    "INSERT INTO assets (id, title, description, content_type, status, owner_id, created_at, updated_at) "
                    "VALUES (:id, 'Old', '', :type, :status, 1, :created, :updated)"),
                    {"id": asset_id, "type": content_type, "status": status, "created": datetime(2024, 5, 2, 8),
                     "updated": updated})
            command.upgrade(config, "head")
            rows = connection.execute(text("SELECT id, status, published_at, review_by FROM assets ORDER BY id")).all()
            published_at = [row[2] if isinstance(row[2], datetime) else datetime.fromisoformat(str(row[2]))
                            for row in rows]
            review_by = [row[3] if isinstance(row[3], date) else date.fromisoformat(str(row[3])) for row in rows]
            assert [(row[0], row[1]) for row in rows] == [(1, "published"), (2, "retired")]
            assert published_at == [datetime(2024, 5, 2, 8)] * 2
            assert review_by == [date(2026, 4, 10), date(2025, 8, 28)]
            if connection.dialect.name != "sqlite":
                connection.execute(text("TRUNCATE assets, users RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()
