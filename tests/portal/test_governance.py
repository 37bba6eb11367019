"""Issue 15: nothing half-made reaches reps, and the library stays true. The state
machine (portal/library/publishing.py), the governance API and its bad input."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.library import policies, publishing
from portal.library.audit import AuditIsAppendOnly
from portal.models import Asset, AssetAudit, Notification

TXT = "brief.txt"  # processes (ready); a .pptx of a few bytes fails


def post(client, headers, data=b"hello reps", filename=TXT, **fields):
    form = {"title": "Hospital pricing", **fields, "file": (io.BytesIO(data), filename)}
    return client.post("/api/v1/assets", data=form, headers=headers, content_type="multipart/form-data")


@pytest.fixture
def people(factories, auth):
    marketer = factories.user("marketer", email="mara@example.com")
    reviewer = factories.user("enablement", email="erin@example.com")
    rep = factories.user("rep", email="ravi@example.com")
    return {"marketer": marketer, "reviewer": reviewer, "rep": rep,
            "m": auth.token(marketer), "e": auth.token(reviewer), "r": auth.token(rep)}


def _rep_sees(client, people, asset_id) -> bool:
    found = client.get(f"/api/v1/assets/{asset_id}", headers=people["r"]).status_code == 200
    listed = asset_id in [a["id"] for a in client.get("/api/v1/assets", headers=people["r"]).get_json()["items"]]
    searched = asset_id in [a["id"] for a in client.get("/api/v1/search?q=hospital", headers=people["r"]).get_json()["items"]]
    assert found == listed == searched, (found, listed, searched)
    return found


def _statuses(asset_id):
    return [(e.action, e.old, e.new) for e in db.session.scalars(
        select(AssetAudit).where(AssetAudit.asset_id == asset_id, AssetAudit.field == "status").order_by(AssetAudit.id))]


def test_walk_the_state_machine(app, factories):
    """Every step from every state: allowed ones move the item, the others are refused with 409."""
    marketer, reviewer = factories.user("marketer"), factories.user("enablement")
    steps = {
        "publish": lambda a: publishing.publish(a, marketer),
        "approve": lambda a: publishing.approve(a, reviewer),
        "send_back": lambda a: publishing.send_back(a, reviewer, "fix the prices"),
        "retire": lambda a: (publishing.retire(a, marketer, "old"), db.session.commit()),
        "restore": lambda a: (publishing.restore(a, marketer), db.session.commit()),
    }
    expected = {  # (state, step) -> new state; missing: refused
        ("draft", "publish"): "published", ("draft", "retire"): "retired",
        ("in_review", "approve"): "published", ("in_review", "send_back"): "draft",
        ("in_review", "retire"): "retired", ("scheduled", "publish"): "published",
        ("scheduled", "retire"): "retired", ("published", "retire"): "retired",
        ("retired", "restore"): "published",
    }
    for state in ("draft", "in_review", "scheduled", "published", "retired"):
        for step, run in steps.items():
            asset = factories.asset(marketer, publish="draft")
            asset.status, asset.published_at = state, (None if state != "retired" else asset.created_at)
            db.session.commit()
            if (state, step) in expected:
                run(asset)
                assert db.session.get(Asset, asset.id).status == expected[state, step], (state, step)
            else:
                with pytest.raises(publishing.TransitionRefused) as refused:
                    run(asset)
                assert refused.value.status == 409 and db.session.get(Asset, asset.id).status == state
    never_published = factories.asset(marketer, publish="draft")
    publishing.retire(never_published, marketer, "abandoned")
    db.session.commit()
    publishing.restore(never_published, marketer)  # back to a draft, never straight to reps
    assert db.session.get(Asset, never_published.id).status == "draft"


def test_publish_choices_and_visibility(client, people):
    """publish=now (default) | draft | a date; reps see only published items whose file is processed."""
    now = post(client, people["m"]).get_json()
    assert now["status"] == "published" and now["current_version"]["processing"] == "ready"
    assert now["review_by"] == (date.today() + timedelta(days=180)).isoformat() and now["verified_at"]
    assert _rep_sees(client, people, now["id"])

    draft = post(client, people["m"], data=b"hello draft", publish="draft").get_json()
    assert draft["status"] == "draft" and not _rep_sees(client, people, draft["id"])
    failed = post(client, people["m"], data=b"not a deck", filename="deck.pptx").get_json()
    assert failed["status"] == "published" and failed["current_version"]["processing"] == "failed"
    assert not _rep_sees(client, people, failed["id"])  # published, but its file failed: hidden

    later = (date.today() + timedelta(days=3)).isoformat()
    scheduled = post(client, people["m"], data=b"hello later", publish=later).get_json()
    assert (scheduled["status"], scheduled["publish_on"]) == ("scheduled", later)
    assert not _rep_sees(client, people, scheduled["id"])
    assert publishing.publish_due(date.today()) == []
    assert publishing.publish_due(date.today() + timedelta(days=3)) == [scheduled["id"]]
    assert _rep_sees(client, people, scheduled["id"])

    for bad, message in (("yesterday", "now, draft or a date"), ("2020-01-01", "in the past"),
                         ("2026-02-30", "now, draft or a date")):
        answer = post(client, people["m"], data=b"never stored", publish=bad)
        assert answer.status_code == 422 and message in answer.get_json()["error"]["message"]
    assert db.session.scalar(select(db.func.count()).select_from(Asset)) == 4


def test_publish_endpoint_refuses_failed_without_confirmation_and_wrong_states(client, people):
    draft = post(client, people["m"], data=b"broken", filename="deck.pptx", publish="draft").get_json()
    url = f"/api/v1/assets/{draft['id']}/publish"
    refused = client.post(url, headers=people["m"])
    error = refused.get_json()["error"]
    assert refused.status_code == 409 and error["code"] == "processing_failed"
    assert "Processing of this file failed" in error["message"] and error["processing_error"]
    assert client.post(url, json={"confirm": "yes"}, headers=people["m"]).status_code == 400
    assert client.post(url, data="{not json", headers=people["m"], content_type="application/json").status_code == 400
    assert client.post(url, json={"publish": "1999-01-01"}, headers=people["m"]).status_code == 422
    confirmed = client.post(url, json={"confirm": True}, headers=people["m"]).get_json()
    assert confirmed["status"] == "published" and not _rep_sees(client, people, draft["id"])
    again = client.post(url, headers=people["m"])
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "invalid_transition"
    assert client.post("/api/v1/assets/99999/publish", headers=people["m"]).status_code == 404
    assert client.post(url, headers=people["r"]).status_code == 403


def test_approval_required_per_content_type(client, people, factories):
    policies.save_policies({"price_sheet": (True, 90)})
    asset = post(client, people["m"], content_type="price_sheet").get_json()
    assert asset["status"] == "in_review" and not _rep_sees(client, people, asset["id"])
    url = f"/api/v1/assets/{asset['id']}"
    assert [a["id"] for a in client.get("/api/v1/approvals", headers=people["e"]).get_json()["items"]] == [asset["id"]]
    assert client.get("/api/v1/approvals", headers=people["m"]).get_json()["total"] == 0  # not your own
    own = client.post(f"{url}/approve", headers=people["m"])
    assert own.status_code == 403 and own.get_json()["error"]["code"] == "own_item"
    assert client.post(f"{url}/send-back", json={"comment": "  "}, headers=people["e"]).status_code == 422
    assert client.post(f"{url}/send-back", json={"comment": 5}, headers=people["e"]).status_code == 400
    back = client.post(f"{url}/send-back", json={"comment": "Prices are last year's"}, headers=people["e"]).get_json()
    assert back["status"] == "draft" and back["review_comment"] == "Prices are last year's"
    assert client.post(f"{url}/approve", headers=people["e"]).status_code == 409
    assert client.post(f"{url}/publish", headers=people["m"]).get_json()["status"] == "in_review"  # submitted again
    approved = client.post(f"{url}/approve", headers=people["e"]).get_json()
    assert approved["status"] == "published" and approved["review_by"] == (date.today() + timedelta(days=90)).isoformat()
    assert _rep_sees(client, people, asset["id"])
    notes = db.session.scalars(select(Notification.message).where(Notification.user_id == people["marketer"].id)
                               .order_by(Notification.id)).all()
    assert notes == ["“Hospital pricing” was sent back by erin@example.com: Prices are last year's",
                     "“Hospital pricing” was approved by erin@example.com and is published."]
    assert _statuses(asset["id"]) == [("created", None, "in_review"), ("sent_back", "in_review", "draft"),
                                      ("submitted", "draft", "in_review"), ("approved", "in_review", "published")]

    # A new version waits for approval; reps keep the approved one meanwhile.
    second = client.post(f"{url}/versions", data={"file": (io.BytesIO(b"hello v2"), "v2.txt")},
                         headers=people["m"], content_type="multipart/form-data").get_json()
    assert second["current_version"]["number"] == 1 and second["pending_version"]["number"] == 2
    assert second["pending_publish"] == "review"
    assert client.get(f"{url}/download", headers=people["r"]).data == b"hello reps"
    assert client.post(f"{url}/approve", headers=people["m"]).status_code == 403
    assert client.post(f"{url}/approve", headers=people["e"]).get_json()["current_version"]["number"] == 2
    assert client.get(f"{url}/download", headers=people["r"]).data == b"hello v2"


def test_new_version_stays_out_until_processed_and_draft_versions_wait(client, people):
    asset = post(client, people["m"]).get_json()
    url = f"/api/v1/assets/{asset['id']}"
    broken = client.post(f"{url}/versions", data={"file": (io.BytesIO(b"no deck"), "v2.pptx")},
                         headers=people["m"], content_type="multipart/form-data").get_json()
    assert broken["current_version"]["number"] == 1 and broken["pending_version"]["processing"] == "failed"
    assert "pending_version" not in client.get(url, headers=people["r"]).get_json()
    assert client.get(f"{url}/download", headers=people["r"]).data == b"hello reps"
    held = client.post(f"{url}/versions", data={"file": (io.BytesIO(b"hello v3"), "v3.txt"), "publish": "draft"},
                       headers=people["m"], content_type="multipart/form-data").get_json()
    assert (held["current_version"]["number"], held["pending_publish"]) == (1, "hold")
    assert client.post(f"{url}/versions", data={"file": (io.BytesIO(b"x"), "v.txt"), "publish": "2030-01-01"},
                       headers=people["m"], content_type="multipart/form-data").status_code == 422
    assert client.post(f"{url}/publish", headers=people["m"]).get_json()["current_version"]["number"] == 3


def test_duplicates_at_upload(client, people):
    first = post(client, people["m"], data=b"same bytes").get_json()
    refused = post(client, people["m"], data=b"same bytes", title="Copy")
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "duplicate_file"
    assert refused.get_json()["error"]["existing"] == {"id": first["id"], "title": "Hospital pricing"}
    assert post(client, people["m"], data=b"same bytes", allow_duplicate="maybe").status_code == 400
    assert post(client, people["m"], data=b"same bytes", as_version_of="abc").status_code == 400
    assert post(client, people["m"], data=b"same bytes", as_version_of="99999").status_code == 404
    kept = post(client, people["m"], data=b"same bytes", title="Copy", allow_duplicate="true")
    assert kept.status_code == 201 and kept.get_json()["duplicate_of"] == [{"id": first["id"], "title": "Hospital pricing"}]
    version = post(client, people["m"], data=b"newer bytes", as_version_of=str(first["id"]))
    assert version.status_code == 201 and version.get_json()["id"] == first["id"]
    assert version.get_json()["current_version"]["number"] == 2
    assert db.session.scalar(select(db.func.count()).select_from(Asset)) == 2


def test_content_type_defaults_from_the_file(client, people):
    kinds = {"a.pdf": "datasheet", "a.docx": "datasheet", "a.pptx": "deck", "a.xlsx": "price_sheet",
             "a.mp4": "video", "a.txt": "other"}
    for n, (filename, content_type) in enumerate(kinds.items()):
        answer = post(client, people["m"], data=f"file {n}".encode(), filename=filename).get_json()
        assert answer["content_type"] == content_type, filename
    chosen = post(client, people["m"], data=b"chosen", filename="a.pdf", content_type="case_study").get_json()
    assert chosen["content_type"] == "case_study"


def test_verify_history_and_bulk_edit(client, people, factories):
    asset = post(client, people["m"]).get_json()
    url = f"/api/v1/assets/{asset['id']}"
    row = db.session.get(Asset, asset["id"])
    row.review_by = date.today() - timedelta(days=1)
    db.session.commit()
    assert client.get(url, headers=people["m"]).get_json()["needs_review"] is True
    candidates = client.get("/api/v1/analytics/retirement-candidates?reason=unverified", headers=people["m"]).get_json()
    [candidate] = candidates["items"]
    assert candidate["asset_id"] == asset["id"] and "unverified" in candidate["reason_codes"]
    assert f"Not verified since {date.today().isoformat()}" in str(candidate["reasons"])
    overdue = client.get("/api/v1/assets?status=needs_review", headers=people["m"]).get_json()["items"]
    assert [a["id"] for a in overdue] == [asset["id"]]
    verified = client.post(f"{url}/verify", headers=people["e"]).get_json()
    assert verified["verified_by"] == "erin@example.com" and verified["needs_review"] is False
    assert verified["review_by"] == (date.today() + timedelta(days=180)).isoformat()
    draft = post(client, people["m"], data=b"draft", publish="draft").get_json()
    assert client.post(f"/api/v1/assets/{draft['id']}/verify", headers=people["e"]).status_code == 409
    assert client.post(f"{url}/verify", headers=people["r"]).status_code == 403

    assert client.patch(url, json={"title": "Hospital pricing 2027", "tags": ["pricing"]}, headers=people["m"]).status_code == 200
    other = post(client, people["m"], data=b"other").get_json()
    bulk = client.post("/api/v1/assets/bulk-edit", headers=people["m"], json={
        "asset_ids": [asset["id"], other["id"]],
        "changes": {"add_tags": "emea", "region": "EMEA", "owner_email": "erin@example.com", "review_by": ""}})
    assert bulk.status_code == 422 and "owner_email" in bulk.get_json()["error"]["fields"]  # a marketer or admin
    bulk = client.post("/api/v1/assets/bulk-edit", headers=people["m"], json={
        "asset_ids": [asset["id"], other["id"]], "changes": {"add_tags": "emea", "region": "EMEA", "product": ""}})
    assert bulk.status_code == 200 and [a["region"] for a in bulk.get_json()["items"]] == ["EMEA", "EMEA"]
    assert bulk.get_json()["items"][0]["tags"] == ["emea", "pricing"]
    for body, status in (({"asset_ids": "1", "changes": {"region": "x"}}, 400),
                         ({"asset_ids": [asset["id"]], "changes": {}}, 422),
                         ({"asset_ids": [asset["id"]], "changes": {"colour": "red"}}, 422),
                         ({"asset_ids": [asset["id"]], "changes": {"review_by": "2001-01-01"}}, 422),
                         ({"asset_ids": [asset["id"], 99999], "changes": {"region": "x"}}, 404),
                         ({"asset_ids": [2 ** 70], "changes": {"region": "x"}}, 400),
                         ({"asset_ids": list(range(1, 600)), "changes": {"region": "x"}}, 413)):
        assert client.post("/api/v1/assets/bulk-edit", headers=people["m"], json=body).status_code == status, body
    assert client.post("/api/v1/assets/bulk-edit", headers=people["e"], json={}).status_code == 403

    history = client.get(f"{url}/history", headers=people["m"]).get_json()
    entries = [(h["action"], h["field"], h["old"], h["new"]) for h in history["items"]]
    assert entries[:5] == [("bulk_edited", "tags", "pricing", "emea, pricing"), ("bulk_edited", "region", None, "EMEA"),
                           ("edited", "tags", "", "pricing"), ("edited", "title", "Hospital pricing", "Hospital pricing 2027"),
                           ("verified", "review_by", (date.today() - timedelta(days=1)).isoformat(),
                            (date.today() + timedelta(days=180)).isoformat())]
    assert entries[-1] == ("created", "status", None, "published")
    assert history["items"][0]["user"]["email"] == "mara@example.com" and history["items"][0]["at"]
    assert client.get(f"{url}/history", headers=people["r"]).status_code == 403
    assert client.get("/api/v1/assets/99999/history", headers=people["m"]).status_code == 404
    assert client.get(f"{url}/history?per_page=1000", headers=people["m"]).status_code == 400

    entry = db.session.scalars(select(AssetAudit)).first()
    entry.new = "tampered"
    with pytest.raises(AuditIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(AssetAudit)).first())
    with pytest.raises(AuditIsAppendOnly):
        db.session.commit()
    db.session.rollback()
