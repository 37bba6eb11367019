"""Usage analytics, content scores, search gaps and retirement.

routes.py (pages, blueprint `analytics`), api.py (JSON); use cases: ranges.py, usage.py, overview.py,
asset_table.py (scores, leaderboards), asset_report.py (one asset), search_gaps.py, rollups.py,
retirement.py, tables.py, tasks.py (rollups, expiry)."""
