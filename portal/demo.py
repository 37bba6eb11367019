"""`seed-demo`: demo users and a small library of real generated files."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select

from assets.samples import demo_library
from portal.admin.services import save_user
from portal.config import Settings
from portal.extensions import db
from portal.library.services import create_asset
from portal.models import Asset
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
    get_queue().huey.immediate = True
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
    yield f"Demo ready. Password for every demo user: {DEMO_PASSWORD}"
