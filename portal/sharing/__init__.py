"""Sharing: tracked links reps send buyers, and what the buyers read.

routes.py (the rep's pages, blueprint `sharing`, and the buyer's pages, blueprint
`buyer`: no sign-in, no portal navigation, no session cookie), api.py (JSON under
/api/v1), tokens.py (unguessable tokens, kept hashed), links.py (create, list,
extend, revoke; a link's state), content.py (what a link shows, and whether it
still may), gate.py (email and passcode, throttled), visits.py (visits, beacons,
the rep's notifications), tasks.py (notification emails)."""

from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

BUYER_BLUEPRINT = "buyer"


class NoSessionOnBuyerPages(SecureCookieSessionInterface):
    """The portal's session cookie is never set (nor cleared) on a buyer's page:
    whatever touched the session there (Flask-Login, a flash), the answer carries
    no portal cookie."""

    def save_session(self, app, session, response) -> None:
        if BUYER_BLUEPRINT in request.blueprints:
            return None
        return super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    from portal.sharing import links
    from portal.viewhelpers import add_asset_page_section

    app.session_interface = NoSessionOnBuyerPages()
    add_asset_page_section(app, "share", links.asset_page_section)
