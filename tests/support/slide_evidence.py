"""Data for the slide evidence tests (tests/portal/test_slide_evidence.py and the browser
journey): two decks sharing a slide, deck inclusions, reported outcomes, reps' reading
time and buyers' visits through an item link and a deck link."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.extensions import db
from portal.models import Page, ReportedUse, UsageEvent


def deck_of_slides(factories, owner, title: str, count: int, group_base: int | None = None):
    asset = factories.asset(owner, title=title)
    version = asset.current_version
    version.kind = "pptx"
    pages = [Page(version_id=version.id, asset_id=asset.id, number=n, title=f"{title} slide {n}")
             for n in range(1, count + 1)]
    db.session.add_all(pages)
    db.session.commit()
    return asset, pages


def make_evidence_data(factories) -> dict:
    marketer = factories.user("marketer")
    reps = [factories.user("rep") for _ in range(3)]
    alpha, pa = deck_of_slides(factories, marketer, "Alpha", 2)
    beta, pb = deck_of_slides(factories, marketer, "Beta", 1)
    # Alpha slide 1 and Beta slide 1 are copies of one slide (one lineage group).
    pa[0].group_id = pb[0].group_id = pa[0].id
    pa[1].group_id = pa[1].id
    today = date.today()

    def include(rep, page, days_ago=5):
        db.session.add(UsageEvent(asset_id=page.asset_id, version_id=page.version_id, user_id=rep.id,
                                  kind="deck_inclusion", page_number=page.number, deck_id=1))

    def report(rep, asset, opportunity, outcome, days_ago=0):
        db.session.add(ReportedUse(asset_id=asset.id, user_id=rep.id, kind="presented", account="Acme",
                                   opportunity=opportunity, outcome=outcome,
                                   occurred_on=today - timedelta(days=days_ago)))

    include(reps[0], pa[0])
    include(reps[0], pa[0])  # twice: two inclusions, one opportunity
    include(reps[1], pa[0])
    include(reps[2], pb[0])  # the copy in Beta
    report(reps[0], alpha, "Renewal", "won")
    report(reps[0], alpha, "Renewal", "won")  # the same opportunity reported twice counts once
    report(reps[1], alpha, "Expansion", "lost")
    report(reps[1], alpha, "Old deal", "won", days_ago=30)  # before the slide was used: not counted
    report(reps[2], beta, "Pilot", "open")
    db.session.commit()
    return {"marketer": marketer, "rep": reps[0], "alpha": alpha, "pa": pa}


def add_attention(evidence_data: dict, factories) -> dict:
    """Reps' reading time and buyers' visits on Alpha (slides 1 and 2) and on Beta's copy of slide 1."""
    from portal.models import Deck, DeckSlide, PageAttention, SharePageView, ShareVisit
    from portal.sharing import links

    pa, alpha = evidence_data["pa"], evidence_data["alpha"]
    pb = db.session.scalars(select(Page).where(Page.group_id == pa[0].id, Page.asset_id != alpha.id)).one()
    rep, other, third = (factories.user("rep") for _ in range(3))
    today = date.today()
    db.session.add_all([
        PageAttention(day=today - timedelta(days=1), version_id=pa[0].version_id, number=1, user_id=rep.id,
                      asset_id=alpha.id, seconds=30.0),
        PageAttention(day=today, version_id=pa[0].version_id, number=1, user_id=rep.id, asset_id=alpha.id,
                      seconds=10.0),
        PageAttention(day=today, version_id=pa[0].version_id, number=1, user_id=other.id, asset_id=alpha.id,
                      seconds=20.0),
        PageAttention(day=today, version_id=pb.version_id, number=1, user_id=third.id, asset_id=pb.asset_id,
                      seconds=15.0)])
    item_link, _ = links.create_link(rep, links.parse_options({"asset_id": alpha.id}, default_days=30))
    deck = Deck(owner_id=rep.id, title="Pitch", slides=[DeckSlide(position=1, page_id=pb.id),
                                                        DeckSlide(position=2, page_id=pa[1].id)])
    db.session.add(deck)
    db.session.commit()
    deck_link, _ = links.create_link(rep, links.parse_options({"deck_id": deck.id}, default_days=30))

    def visit(link, n, pages):
        row = ShareVisit(link_id=link.id, key_hash=f"{n:064d}", seconds=sum(s for _, _, s in pages))
        db.session.add(row)
        db.session.flush()
        db.session.add_all(SharePageView(visit_id=row.id, number=shown, asset_id=source.asset_id,
                                         page_number=source.number, seconds=seconds, views=1)
                           for shown, source, seconds in pages)

    visit(item_link, 1, [(1, pa[0], 40), (2, pa[1], 10)])
    visit(item_link, 2, [(2, pa[1], 20)])       # read slide 2 only: skipped slide 1
    visit(item_link, 3, [])                     # opened, read nothing: not counted as skipping
    visit(deck_link, 4, [(1, pb, 30)])          # Beta's copy of slide 1; skipped Alpha's slide 2
    db.session.commit()
    return evidence_data
