"""Reading in the browser: the viewer page of an asset (PDF.js through the partial
templates/viewer/_viewer.html and static/viewer.js; videos and images inline), the PDF
it shows (`preview`: the original PDF or the rendition processing kept), and
page-level attention (seconds per page from the viewer's beacons, attention.py).

routes.py (pages, blueprint `viewer`), api.py (JSON), previews.py (which file the
viewer shows), attention.py (beacons in, the per-page report out)."""

from flask import Flask


def init_app(app: Flask) -> None:
    """Bound how often one user may send attention beacons; `duration` for templates."""
    from portal.ratelimit import RateLimit
    from portal.viewer.attention import duration

    app.add_template_filter(duration, "duration")
    app.extensions["collateral_attention_limit"] = RateLimit("attention beacons", 60, per_seconds=60)
