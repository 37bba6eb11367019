"""Governance: nothing half-made reaches reps, and the library stays true.

The state machine itself is portal/library/publishing.py (every upload goes
through it). Here: routes.py (pages: the approvals queue, publish / approve /
send back / verify buttons, the content-type settings, bulk edit; blueprint
`governance`), api.py (JSON), approvals.py (the reviewers' queue),
verification.py (verify, review-by reminders), bulk.py (bulk metadata edits),
tasks.py (scheduled publishing and reminders)."""

from flask import Flask


def nav_badges(user) -> dict[str, int]:
    """Items waiting for this reviewer."""
    from portal.governance import approvals

    return {"approvals": approvals.waiting_count(user)} if user.is_staff else {}


def init_app(app: Flask) -> None:
    """The governance section of the asset page (status, publish, review, verify, history) and the nav badge."""
    from portal.governance import routes
    from portal.viewhelpers import add_asset_page_section, add_nav_badges

    add_asset_page_section(app, "governance", routes.asset_section)
    add_nav_badges(app, nav_badges)
