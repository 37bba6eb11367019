"""Every page of the portal, as every role that may see it, at 1366x768 and 390x844:
no serious or critical axe-core violation, no horizontal scrolling, and nothing
spilling out of a card.

The pages come from the app's url_map (GET routes outside the JSON API), so a page
added later is covered without touching this file, unless it takes an argument that
`Seed.fill` does not know: then the test fails and says which one to add.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

from assets.sample_files import make_pptx
from portal.access import PUBLIC
from portal.models import ROLES
from tests.browser.conftest import sign_in

AXE = Path(__file__).resolve().parents[1] / "support" / "vendor" / "axe-core-4.14.1.min.js"
VIEWPORTS = ({"width": 1366, "height": 768}, {"width": 390, "height": 844})
ANONYMOUS = "anonymous"
# What `axe.run` reports that we hold every page to.
BLOCKING = ("serious", "critical")
# Page routes that answer a file, never a page, and only for some items (a video's or an
# image's bytes: a deck has none, so the seeded deck answers 404 there).
FILES_ONLY = {"viewer.media"}
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
}"""
OVERFLOW = """() => {
  const width = window.innerWidth, wide = [];
  if (document.documentElement.scrollWidth > width) {
    for (const el of document.querySelectorAll("body *")) {
      const box = el.getBoundingClientRect();
      if (box.right > width + 1 && box.width > 0 && wide.length < 3) wide.push(el.tagName.toLowerCase() +
        (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\\s+/).join(".") : "") +
        " (right edge " + Math.round(box.right) + ")");
    }
  }
  // Content wider than its card, where the card does not scroll it (a table spilling out).
  const spills = [];
  for (const card of document.querySelectorAll(".card")) {
    const style = getComputedStyle(card);
    if (card.scrollWidth > card.clientWidth + 1 && style.overflowX === "visible" && spills.length < 3) {
      spills.push((card.dataset.testid || card.className) + " (" + card.scrollWidth + " px of content in " + card.clientWidth + ")");
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide, spills};
}"""


@dataclass
class Seed:
    """Rows for every argument a page takes; `ids[role]` holds that role's own rows
    (decks, reported uses, notifications belong to their user)."""

    emails: dict[str, str] = field(default_factory=dict)
    shared: dict[str, object] = field(default_factory=dict)
    ids: dict[str, dict[str, object]] = field(default_factory=dict)

    def fill(self, rule, role: str) -> str:
        own = {**self.shared, **self.ids.get(role, {})}

        def value(match: re.Match) -> str:
            name = match.group(1)
            if name not in own:
                raise LookupError(
                    f"page {rule.rule} ({rule.endpoint}) takes <{name}>, which the every-page test cannot fill: "
                    f"add a seeded row for it in _seed() in {Path(__file__).name}")
            return str(own[name])

        return re.sub(r"<(?:[a-z]+:)?([A-Za-z_]+)>", value, rule.rule)


def _seed(factories, tmp_path) -> Seed:
    from portal.analytics.routes import EXPORTS
    from portal.collections.favorites import add_favorite
    from portal.collections.services import Audience, CollectionInput, create_collection
    from portal.decks import renditions as deck_renditions
    from portal.decks.services import create_deck
    from portal.extensions import db
    from portal.feedback.flags import flag_asset
    from portal.feedback.ratings import rate_asset
    from portal.feedback.uses import report_use
    from portal.library.services import retire_assets
    from portal.models import ApiToken, Page
    from portal.notifications.services import notify
    from portal.sharing.links import ShareOptions, create_link

    seed = Seed()
    users = {}
    for role in ROLES:
        users[role] = factories.user(role, email=f"{role}@example.com", name=f"{role.title()} Person",
                                     team="Enterprise", region="EMEA")
        seed.emails[role] = users[role].email
    deck_file = tmp_path / "orbit.pptx"
    make_pptx(str(deck_file), [{"title": "Orbit overview", "bullets": ["Why teams pick Orbit"]},
                               {"title": "Orbit pricing", "bullets": ["Per-seat pricing"]}])
    deck = factories.asset(users["marketer"], title="Orbit pitch", content_type="deck", product="Orbit",
                           region="EMEA", tags="pricing", filename="orbit.pptx", content=deck_file.read_bytes())
    # Long words and titles, as real libraries have them: they must wrap or scroll, never widen a page.
    brief = factories.asset(users["marketer"], title="Orbit brief: total cost of ownership for enterprise healthcare "
                            "networks, with the regional pricing appendix", content_type="datasheet", product="Orbit",
                            content=b"Orbit in one page\n",
                            filename="orbit_total_cost_of_ownership_enterprise_healthcare_2026_v12_final.txt")
    old = factories.asset(users["marketer"], title="Orbit brief 2024", content=b"last year's brief\n")
    retire_assets([old], users["marketer"], "Replaced by the 2026 brief")
    factories.asset(users["marketer"], title="Old price sheet", content=b"2023 prices\n",
                    expires_on=(date.today() - timedelta(days=3)).isoformat())
    page = db.session.scalars(db.select(Page).where(Page.asset_id == deck.id).order_by(Page.number)).first()
    assert page is not None, "the seeded deck was not processed into slides"
    rating, _ = rate_asset(users["rep"], brief.id, 2, "Needs the 2027 prices")
    flag = flag_asset(users["rep"], brief.id, "outdated", "Old logo")
    token = ApiToken(user_id=users["admin"].id, token_hash="0" * 64)
    db.session.add(token)
    db.session.commit()
    seed.shared = {"asset_id": deck.id, "page_id": page.id, "user_id": users["rep"].id, "token_id": token.id,
                   "rating_id": rating.id, "flag_id": flag.id, "name": next(iter(EXPORTS))}
    for role, user in users.items():
        use = report_use(user, brief.id, {"kind": "presented", "account": "Acme", "outcome": "won",
                                          "occurred_on": date.today()})
        own_deck = create_deck(user, f"{role} kickoff", [page.id])
        # Its PDF made ahead (the worker's job), so /decks/<id>/view opens the viewer without
        # waiting for LibreOffice in the request (the tests' queue runs inline).
        assert deck_renditions.prepare(user, own_deck).ready
        note = notify(user.id, "Your item was rated", f"/assets/{brief.id}")
        db.session.commit()
        # A collection of one's own (a kit shared with the team, for staff) and a favourite.
        kept = create_collection(user, CollectionInput(f"{role} shortlist", "For the Acme renewal", [brief.id, deck.id],
                                                       Audience(teams=["Enterprise"]) if user.is_staff else None))
        add_favorite(user, deck.id)
        # A share link of one's own; the rep's is the one the anonymous buyer opens.
        link, buyer_token = create_link(user, ShareOptions(
            kind="asset", target_id=deck.id, expires_on=date.today() + timedelta(days=30), require_email=False,
            passcode=None, allow_download=True, notify=True, account="Acme", opportunity="Acme renewal"))
        if role == "rep":
            seed.shared.update(token=buyer_token, number=1)
        seed.ids[role] = {"use_id": use.id, "deck_id": own_deck.id, "notification_id": note.id,
                          "collection_id": kept.id, "link_id": link.id}
    return seed


def _pages(app):
    """(rule, roles) for every GET page outside the JSON API."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if ("GET" not in rule.methods or rule.endpoint == "static" or rule.endpoint.startswith("api.")
                or rule.endpoint in FILES_ONLY):
            continue
        roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", ())
        yield rule, ((ANONYMOUS,) if tuple(roles) == (PUBLIC,) else tuple(roles))


def _check(page, url: str, viewport: dict, axe_source: str) -> list[str]:
    problems = []
    page.set_viewport_size(viewport)
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    if page.evaluate("typeof axe") == "undefined":
        page.add_script_tag(content=axe_source)
    size = f"{viewport['width']}x{viewport['height']}"
    layout = page.evaluate(OVERFLOW)
    if layout["scrollWidth"] > layout["innerWidth"]:
        problems.append(f"{url} at {size}: scrolls sideways ({layout['scrollWidth']} px wide in "
                        f"{layout['innerWidth']}): {', '.join(layout['wide'])}")
    if layout["spills"]:
        problems.append(f"{url} at {size}: content spills out of its card: {', '.join(layout['spills'])}")
    for violation in page.evaluate(AXE_RUN):
        if violation["impact"] in BLOCKING:
            problems.append(f"{url} at {size}: axe {violation['impact']} {violation['id']} ({violation['help']}) "
                            f"on {violation['nodes']}")
    return problems


def test_every_page_is_accessible_and_fits_every_screen(app, browser, live_server, factories, tmp_path):
    seed = _seed(factories, tmp_path)
    axe_source = AXE.read_text()
    pages_by_role: dict[str, list[str]] = {}
    for rule, roles in _pages(app):
        for role in roles:
            pages_by_role.setdefault(role, []).append(seed.fill(rule, role))  # LookupError names the argument

    problems: list[str] = []
    visited = 0
    for role, urls in pages_by_role.items():
        # One context per role (CSP bypassed only so that axe can be injected).
        context = browser.new_context(base_url=live_server, bypass_csp=True, viewport=VIEWPORTS[0])
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            if role != ANONYMOUS:
                sign_in(page, seed.emails[role])
            for url in urls:
                try:
                    answer = page.goto(url)
                except PlaywrightError as error:
                    if "Download is starting" in str(error):
                        continue  # a file to save (a CSV, a deck) behind a page route: not a page
                    raise
                if answer.status >= 400:
                    problems.append(f"{url} as {role}: answered {answer.status}")
                    continue
                if not answer.headers.get("content-type", "").startswith("text/html"):
                    continue  # an image or JSON behind a page route: not a page
                visited += 1
                for viewport in VIEWPORTS:
                    problems += [f"[{role}] {p}" for p in _check(page, url, viewport, axe_source)]
        finally:
            context.close()
    assert visited >= 20, f"only {visited} pages were visited"
    assert problems == [], "\n".join(problems)


def test_a_page_argument_without_a_seeded_row_fails_with_its_name():
    from werkzeug.routing import Map, Rule

    rule = Rule("/shares/<token>/pages/<int:page_id>", endpoint="sharing.buyer_page")
    Map([rule])
    seed = Seed(shared={"page_id": 3})
    with pytest.raises(LookupError, match=r"/shares/<token>/pages/<int:page_id> \(sharing.buyer_page\) takes <token>.*_seed\(\)"):
        seed.fill(rule, "rep")
    assert Seed(shared={"page_id": 3, "token": "abc"}).fill(rule, "rep") == "/shares/abc/pages/3"
