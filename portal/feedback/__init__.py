"""Feedback from the field: ratings, reported uses, flags, the review queue,
"My activity" and "My collateral".

routes.py (pages, blueprint `feedback`), api.py (JSON); use cases by job:
inputs.py (checking what reps send), ratings.py, uses.py (reported uses),
flags.py, review_queue.py (the enablement queue), owners.py ("My collateral")."""

from flask import Flask


def nav_badges(user) -> dict[str, int]:
    """Open reviews for reviewers, open feedback on their own items for publishers."""
    from portal.feedback import owners, review_queue

    counts = {}
    if user.is_reviewer:
        counts["reviews"] = review_queue.open_review_count()
    if user.can_publish:
        counts["my_feedback"] = owners.my_feedback_count(user)
    return counts


def init_app(app: Flask) -> None:
    """The feedback section of the asset page and the nav badges."""
    from portal.feedback import routes
    from portal.viewhelpers import add_asset_page_section, add_nav_badges

    add_asset_page_section(app, "feedback", routes.asset_section)
    add_nav_badges(app, nav_badges)
