"""`seed-demo` gives a new user a working portal: users, processed files, usage."""

from __future__ import annotations

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Asset, AssetUsageTotal, AssetVersion, User


def test_seed_demo_loads_users_library_and_usage_once(runner):
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "Demo ready" in first.output and "rolled it up" in first.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 5
    assets = db.session.scalar(select(func.count()).select_from(Asset))
    assert assets >= 4
    states = set(db.session.scalars(select(AssetVersion.processing)))
    assert states == {"ready"}
    used = db.session.scalar(select(func.count()).select_from(AssetUsageTotal))
    assert 0 < used <= assets - 2  # two demo items stay unused: retirement candidates

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "Already there" in again.output and "rolled it up" not in again.output
    assert db.session.scalar(select(func.count()).select_from(Asset)) == assets
