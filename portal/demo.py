"""`seed-demo`: demo users and a small library of real generated files."""

from __future__ import annotations

import random
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from assets.demo_content import demo_library
from portal.admin.services import save_user
from portal.config import Settings
from portal.extensions import db
from portal.library.services import create_asset
from portal.models import Asset, Rating, SearchLog, UsageEvent, User, utcnow
from portal.queue import get_queue

DEMO_PASSWORD = "collateral-demo"
DEMO_USERS = (
    # email, role, name, team, region
    ("rep@example.com", "rep", "Riley Rep", "Mid-market", "North America"),
    ("rep2@example.com", "rep", "Sam Seller", "Enterprise", "EMEA"),
    ("marketer@example.com", "marketer", "Morgan Marketer", "Product marketing", "Global"),
    ("enablement@example.com", "enablement", "Emery Enablement", "Sales enablement", "Global"),
    ("admin@example.com", "admin", "Alex Admin", "IT", "Global"),
)


def seed(settings: Settings) -> Iterator[str]:
    users = {}
    for email, role, name, team, region in DEMO_USERS:
        users[role], created = save_user(email, role=role, password=DEMO_PASSWORD, name=name, team=team,
                                         region=region, active=True)
        yield f"{'Created' if created else 'Kept'} {email} ({role})"
    owner = users["marketer"]
    existing = set(db.session.scalars(select(Asset.title)))
    # Process the demo files now, in this command, so the portal opens ready.
    for huey in get_queue().hueys.values():
        huey.immediate = True
    with tempfile.TemporaryDirectory(prefix="collateral-demo-") as work:
        for item in demo_library():
            if item.title in existing:
                yield f"Already there: {item.title}"
                continue
            path = item.write(str(Path(work) / item.filename))
            with open(path, "rb") as stream:
                create_asset(owner, stream, item.filename, {
                    "title": item.title, "description": item.description, "content_type": item.content_type,
                    "product": item.product, "stage": item.stage, "region": item.region,
                    "persona": item.persona, "tags": item.tags,
                }, settings.max_upload_bytes)
            yield f"Added {item.title}"
    yield from _seed_activity(users)
    yield f"Demo ready. Password for every demo user: {DEMO_PASSWORD}"


def _seed_activity(users: dict) -> Iterator[str]:
    """Two months of made-up use (the same every time), so the analytics pages
    have something to show; only into a library nobody has used yet."""
    from portal.analytics.rollups import rebuild_rollups

    if db.session.scalar(select(UsageEvent.id).limit(1)) is not None:
        return
    pick = random.Random(7)
    assets = list(db.session.scalars(select(Asset).order_by(Asset.id)))
    reps = list(db.session.scalars(select(User).where(User.role == "rep")))
    now = utcnow()
    for n, asset in enumerate(assets[:-2]):  # the last two stay unused: retirement candidates
        for _ in range(pick.randint(1, 30 // (n + 1) + 2)):
            when = now - timedelta(days=pick.randint(0, 59), minutes=pick.randint(0, 600))
            db.session.add(UsageEvent(asset_id=asset.id, version_id=asset.current_version_id,
                                      user_id=pick.choice(reps).id, kind=pick.choice(("view", "view", "download")),
                                      occurred_at=when))
    for asset, stars in zip(assets, (5, 4, 2, 3), strict=False):
        db.session.add(Rating(asset_id=asset.id, user_id=users["rep"].id, stars=stars))
    db.session.add(SearchLog(user_id=users["rep"].id, query="pricing mars", normalized_query="pricing mars",
                             result_count=0, created_at=now - timedelta(days=2)))
    db.session.commit()
    rebuild_rollups()
    yield "Added two months of demo usage and rolled it up for the analytics pages"
