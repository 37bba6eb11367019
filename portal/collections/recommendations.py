"""Recommendations explained in words, from two small derived tables.

`refresh_recommendations` (the queue's job, hourly; never in a request) reads the
uses of the last WINDOW_DAYS days through the same raw-use query the rollups use
(portal/analytics/rollups.py `raw_uses`, on the occurred_at index), counting reps
only: distinct reps per asset and team or region in SQL, pairs from each rep's most
used assets in memory (bounded by TOP_PER_USER). Then it replaces, in one short
transaction:
  popular_assets   per team and per region, how many reps used each asset
                   (the TOP_PER_AUDIENCE most used of each)
  asset_co_usage   per asset, how many reps who used it also used another
                   (the TOP_PAIRS strongest; pairs come from each rep's
                   TOP_PER_USER most used assets, and need MIN_CO_USERS reps)
The rollups themselves cannot answer these: they keep users per day, not which
users, and distinct reps over a month do not add up from days.

`recommend` (per request) reads a few dozen rows of those tables by primary-key
prefix and says why for each pick: "Used by 12 reps in your team this month",
"Reps who used “X” also used “Y”". "This month" is the last WINDOW_DAYS days;
a use is anything recorded: a view, a download, a deck inclusion, a reported use."""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import joinedload

from portal.analytics.rollups import raw_uses
from portal.extensions import db
from portal.library.services import hidden_from_reps_clause
from portal.models import Asset, AssetCoUsage, PopularAsset, Role, UsageKind, User, utcnow

WINDOW_DAYS = 30
TOP_PER_AUDIENCE = 50
TOP_PER_USER = 30  # pairs held while counting: at most reps x 30 x 29
TOP_PAIRS = 10
MIN_CO_USERS = 2
TEAM, REGION = "team", "region"


@dataclass
class RefreshReport:
    popular_rows: int
    pair_rows: int


def refresh_recommendations(today: date | None = None) -> RefreshReport:
    """Rewrite popular_assets and asset_co_usage from the last WINDOW_DAYS days of uses.

    The counting only reads (so, on SQLite, writers are not held up while it runs); the
    two tables are then replaced in one short transaction."""
    today = today or utcnow().date()
    uses = raw_uses(since=today - timedelta(days=WINDOW_DAYS - 1), until=today)
    per_rep = (select(uses.c.user_id, uses.c.asset_id, func.count().label("events"))
               .select_from(uses).join(User, User.id == uses.c.user_id)
               .where(User.role == Role.REP.value, uses.c.kind != UsageKind.SEARCH_CLICK.value)
               .group_by(uses.c.user_id, uses.c.asset_id).cte("per_rep"))

    popular: list[dict] = []
    for scope, column in ((TEAM, User.team), (REGION, User.region)):
        reps = func.count()
        counted = (select(column.label("value"), per_rep.c.asset_id, reps.label("users"),
                          func.row_number().over(partition_by=column, order_by=(reps.desc(), per_rep.c.asset_id))
                          .label("n"))
                   .select_from(per_rep).join(User, User.id == per_rep.c.user_id)
                   .where(column.is_not(None), column != "")
                   .group_by(column, per_rep.c.asset_id).subquery())
        popular += [{"scope": scope, "value": value, "asset_id": asset_id, "users": users}
                    for value, asset_id, users in db.session.execute(
                        select(counted.c.value, counted.c.asset_id, counted.c.users)
                        .where(counted.c.n <= TOP_PER_AUDIENCE))]

    # Each rep's most used assets (at most TOP_PER_USER): pairs are counted from these.
    ranked = select(per_rep.c.user_id, per_rep.c.asset_id, func.row_number().over(
        partition_by=per_rep.c.user_id, order_by=(per_rep.c.events.desc(), per_rep.c.asset_id)).label("n")).subquery()
    used_by: dict[int, list[int]] = defaultdict(list)
    for user_id, asset_id in db.session.execute(
            select(ranked.c.user_id, ranked.c.asset_id).where(ranked.c.n <= TOP_PER_USER)):
        used_by[user_id].append(asset_id)
    together: Counter[tuple[int, int]] = Counter()
    for assets in used_by.values():
        together.update(itertools.permutations(sorted(assets), 2))
    strongest: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for (asset_id, other_id), users in together.items():
        if users >= MIN_CO_USERS:
            strongest[asset_id].append((users, other_id))
    pairs = [{"asset_id": asset_id, "other_asset_id": other_id, "users": users}
             for asset_id, others in strongest.items()
             for users, other_id in heapq.nsmallest(TOP_PAIRS, others, key=lambda p: (-p[0], p[1]))]

    db.session.commit()  # end the reading transaction; the writing one is short
    db.session.execute(delete(PopularAsset))
    db.session.execute(delete(AssetCoUsage))
    for model, rows in ((PopularAsset, popular), (AssetCoUsage, pairs)):
        for start in range(0, len(rows), 5000):
            db.session.execute(insert(model), rows[start:start + 5000])
    db.session.commit()
    return RefreshReport(len(popular), len(pairs))


@dataclass
class Recommendation:
    asset: Asset
    reason: str


def _reps(n: int) -> str:
    return f"{n} rep{'' if n == 1 else 's'}"


def _also_used(seed_title: str, users: int) -> Callable[[Asset], str]:
    return lambda asset: f"Reps who used “{seed_title}” also used “{asset.title}” ({_reps(users)} this month)"


def _used_by(users: int, where: str) -> Callable[[Asset], str]:
    return lambda asset: f"Used by {_reps(users)} in {where} this month"


def recommend(user: User, seeds: list[int], exclude: set[int], limit: int = 6) -> list[Recommendation]:
    """Up to `limit` assets this user may open and has not kept or viewed lately, each with
    why, taken in turn from: what reps who used the seeds (recently viewed, favourites)
    also used; what reps of the user's team used; what reps of their region used."""
    lists: list[list[tuple[int, Callable[[Asset], str]]]] = []
    titles = dict(db.session.execute(select(Asset.id, Asset.title).where(Asset.id.in_(seeds[:10]))).all()) if seeds else {}
    if titles:
        rows = db.session.execute(
            select(AssetCoUsage.asset_id, AssetCoUsage.other_asset_id, AssetCoUsage.users)
            .where(AssetCoUsage.asset_id.in_(list(titles))).order_by(AssetCoUsage.users.desc()).limit(60)).all()
        lists.append([(other, _also_used(titles[seed], users)) for seed, other, users in rows])
    for scope, value, where in ((TEAM, user.team, "your team"), (REGION, user.region, f"your region ({user.region})")):
        if value:
            rows = db.session.execute(
                select(PopularAsset.asset_id, PopularAsset.users)
                .where(PopularAsset.scope == scope, PopularAsset.value == value)
                .order_by(PopularAsset.users.desc(), PopularAsset.asset_id).limit(30)).all()
            lists.append([(asset_id, _used_by(users, where)) for asset_id, users in rows])

    candidates = {asset_id for picks in lists for asset_id, _ in picks} - exclude
    if not candidates:
        return []
    assets = {a.id: a for a in db.session.scalars(
        select(Asset).options(joinedload(Asset.current_version), joinedload(Asset.owner))
        .where(Asset.id.in_(candidates), ~hidden_from_reps_clause()))}
    chosen: list[Recommendation] = []
    taken: set[int] = set()
    cursors = [iter(picks) for picks in lists]
    while cursors and len(chosen) < limit:
        for cursor in list(cursors):
            for asset_id, reason in cursor:
                if asset_id in assets and asset_id not in taken:
                    chosen.append(Recommendation(assets[asset_id], reason(assets[asset_id])))
                    taken.add(asset_id)
                    break
            else:
                cursors.remove(cursor)
            if len(chosen) >= limit:
                break
    return chosen
