"""The analytics tables as header + rows: one definition feeds the CSV exports
of the pages and stays in step with what the pages show."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from flask import Response

from portal.analytics import asset_table, overview, search_gaps
from portal.analytics.asset_report import AssetAnalytics
from portal.analytics.asset_table import AssetRow
from portal.analytics.ranges import DateRange
from portal.analytics.usage import KIND_LABELS, KINDS

Table = tuple[list[str], list[Sequence]]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _day(value) -> str:
    return value.isoformat() if value else ""


def overview_table(window: DateRange) -> Table:
    data = overview.overview(window)
    header = ["period", *(KIND_LABELS[kind] for kind in KINDS), "Active reps"]
    rows = [[label, *(data.series[kind][n] for kind in KINDS), data.series["active_reps"][n]]
            for n, label in enumerate(data.labels)]
    return header, rows


ASSET_HEADER = ["asset_id", "title", "status", "content_type", "product", "owner", *KINDS, "uses",
                "rating_average", "rating_count", "last_used_on", "score", "quadrant"]


def _asset_cells(row: AssetRow, quadrant: str | None) -> list:
    return [row.asset_id, row.title, row.status, row.content_type or "", row.product or "", row.owner_email or "",
            *(row.counts[kind] for kind in KINDS), row.uses,
            "" if row.rating_average is None else row.rating_average, row.rating_count,
            _day(row.last_used_on), row.score, quadrant or ""]


def assets_table(window: DateRange, board: str | None = None) -> Table:
    """Every asset, or one leaderboard (most_used, never_used, ...)."""
    table = asset_table.asset_table(window)
    rows = table.rows if board is None else table.leaderboards(n=10_000)[board]
    return ASSET_HEADER, [_asset_cells(row, table.quadrant_of.get(row.asset_id)) for row in rows]


def search_gaps_table(window: DateRange, unclicked: bool = False) -> Table:
    gaps = search_gaps.unclicked_searches(window) if unclicked else search_gaps.search_gaps(window)
    return ["query", "searches", "last_searched_at"], [
        [gap.query, gap.searches, gap.last_searched_at.isoformat(timespec="seconds")] for gap in gaps]


def asset_usage_table(data: AssetAnalytics) -> Table:
    header = ["period", *(KIND_LABELS[kind] for kind in KINDS)]
    return header, [[label, *(data.series[kind][n] for kind in KINDS)] for n, label in enumerate(data.labels)]


def _safe(cell) -> object:
    # A cell a spreadsheet would run as a formula is kept as text.
    if isinstance(cell, str) and cell.startswith(FORMULA_START):
        return "'" + cell
    return cell


def csv_response(filename: str, table: Table) -> Response:
    header, rows = table
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_safe(cell) for cell in row] for row in rows)
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

