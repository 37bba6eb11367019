"""Usage as of now, the one way every reader gets it: the rollups plus the uses
recorded since their watermark, read raw (portal/analytics/rollups.py says why
the two never overlap).

Readers are wrapped in `consistent`: it hands them the watermark as `mark`;
they read the rollups, and `rollups.raw_uses(recorded_from=mark, ...)` for the
rest. Each statement sees the database as committed when it starts, so a
rollup moving the watermark in the middle of a read (a few times an hour) could
leave that read with rollups that already hold some uses it also read raw: the
watermark is read again at the end, and the read runs again if it moved.

`usage_totals` is the all-time side (counts per kind and last use per asset):
the asset table, retirement candidates and the `usage` of every asset shown in
the library, search and API read it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from sqlalchemy import func, select

from portal.analytics.rollups import TOTAL_COLUMNS, raw_uses, watermark
from portal.extensions import db
from portal.models import AssetUsageTotal

R = TypeVar("R")
READS = 3  # the watermark moves every quarter of an hour: a second read is rare, a third never needed


def consistent(read: Callable[..., R]) -> Callable[..., R]:
    """Run `read` with the watermark as its `mark` argument, again if a rollup moved it meanwhile."""

    @functools.wraps(read)
    def reader(*args, **kwargs) -> R:
        for _ in range(READS):
            mark = watermark()
            result = read(*args, mark=mark, **kwargs)
            if watermark() == mark:
                break
        return result

    return reader


KINDS = tuple(TOTAL_COLUMNS)


@dataclass(slots=True)
class UsageTotals:
    counts: list[int]  # per kind, in the order of KINDS
    last_used_on: date | None = None

    @property
    def events(self) -> int:
        return sum(self.counts)

    def per_kind(self) -> dict[str, int]:
        return dict(zip(KINDS, self.counts, strict=True))


@consistent
def usage_totals(asset_ids: Iterable[int] | None = None, *, mark) -> dict[int, UsageTotals]:
    """All-time uses per kind and day of last use of these assets (None: of all),
    for those used at all."""
    ids = None if asset_ids is None else list(asset_ids)
    totals: dict[int, UsageTotals] = {}
    if ids == []:
        return totals
    rolled = select(AssetUsageTotal.asset_id, AssetUsageTotal.last_used_on,
                    *(getattr(AssetUsageTotal, column) for column in TOTAL_COLUMNS.values()))
    if ids is not None:
        rolled = rolled.where(AssetUsageTotal.asset_id.in_(ids))
    for asset_id, last_used_on, *counts in db.session.execute(rolled):
        totals[asset_id] = UsageTotals(counts, last_used_on)
    uses = raw_uses(recorded_from=mark, asset_ids=ids)
    for asset_id, kind, count, last_used_on in db.session.execute(
        select(uses.c.asset_id, uses.c.kind, func.count(), func.max(uses.c.day)).group_by(uses.c.asset_id, uses.c.kind)
    ):
        total = totals.setdefault(asset_id, UsageTotals([0] * len(KINDS)))
        if kind in TOTAL_COLUMNS:
            total.counts[KINDS.index(kind)] += count
        total.last_used_on = max(filter(None, (total.last_used_on, last_used_on)))
    return totals
