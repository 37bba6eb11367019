"""Issue 15: steps of the state machine racing on one item run one after the other
(portal/library/publishing.py lock_asset): an approve and a retire at the same moment
never leave an item both retired and published. Real threads, each with its own
session; the row-lock test needs PostgreSQL (CI sets TEST_DATABASE_URL)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, select, text

from portal.extensions import db
from portal.library import policies, publishing
from portal.models import Asset, AssetAudit, User
from tests.conftest import TEST_DATABASE_URL

ROUNDS = 5


def _in_review(factories, marketer) -> int:
    policies.save_policies({"datasheet": (True, 180)})
    asset = factories.asset(marketer, content_type="datasheet")
    assert asset.status == "in_review"
    return asset.id


def _status_chain(asset_id: int) -> list[tuple[str, str | None, str]]:
    return [(e.action, e.old, e.new) for e in db.session.scalars(
        select(AssetAudit).where(AssetAudit.asset_id == asset_id, AssetAudit.field == "status")
        .order_by(AssetAudit.id))]


def _step_in_thread(app, name, asset_id, user_id, step, start, outcomes):
    with app.app_context():
        try:
            asset, user = db.session.get(Asset, asset_id), db.session.get(User, user_id)
            if start is not None:
                start.wait(timeout=30)
            step(asset, user)
            db.session.commit()
            outcomes[name] = "done"
        except publishing.TransitionRefused:
            outcomes[name] = "refused"
        finally:
            db.session.remove()


def _approve(asset, user):
    publishing.approve(asset, user)


def _retire(asset, user):
    publishing.retire(asset, user, "withdrawn")


def test_concurrent_approve_and_retire_never_lose_a_step(app, factories):
    marketer, reviewer = factories.user("marketer"), factories.user("enablement")
    for _ in range(ROUNDS):
        asset_id = _in_review(factories, marketer)
        db.session.commit()
        start, outcomes = threading.Barrier(2), {}
        threads = [threading.Thread(target=_step_in_thread, args=(app, name, asset_id, user.id, step, start, outcomes))
                   for name, user, step in (("approve", reviewer, _approve), ("retire", marketer, _retire))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        db.session.expire_all()
        chain = _status_chain(asset_id)
        # Whatever the order, the item ends retired and every entry starts where the one before ended.
        assert db.session.get(Asset, asset_id).status == "retired"
        assert all(later[1] == earlier[2] for earlier, later in zip(chain, chain[1:], strict=False)), chain
        if outcomes["approve"] == "done":  # approve first, then retire (allowed from published)
            assert chain[1:] == [("approved", "in_review", "published"), ("retired", "published", "retired")]
        else:  # retire first: approving a retired item is refused
            assert outcomes["approve"] == "refused"
            assert chain[1:] == [("retired", "in_review", "retired")]
        assert outcomes["retire"] == "done"


def _waiting_on_a_lock(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return bool(connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")))
    finally:
        engine.dispose()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="row locks: PostgreSQL (set TEST_DATABASE_URL)")
def test_approve_waits_for_the_retire_holding_the_row(app, factories, settings):
    """The retire holds the row lock; the approve waits on it (seen in pg_stat_activity), then reads
    the committed state and is refused, instead of approving an item retired meanwhile."""
    marketer, reviewer = factories.user("marketer"), factories.user("enablement")
    asset_id = _in_review(factories, marketer)
    publishing.retire(db.session.get(Asset, asset_id), marketer, "withdrawn")  # locked, not committed
    outcomes: dict[str, str] = {}
    approver = threading.Thread(target=_step_in_thread,
                                args=(app, "approve", asset_id, reviewer.id, _approve, None, outcomes))
    approver.start()
    deadline = time.monotonic() + 60
    while not _waiting_on_a_lock(settings.database_url):
        if not approver.is_alive() or time.monotonic() > deadline:
            pytest.fail("the approve never waited for the lock")
        time.sleep(0.05)
    assert "approve" not in outcomes
    db.session.commit()
    approver.join(timeout=60)
    assert outcomes == {"approve": "refused"}
    db.session.expire_all()
    assert db.session.get(Asset, asset_id).status == "retired"
    assert _status_chain(asset_id)[1:] == [("retired", "in_review", "retired")]
