"""Usage analytics, content scores, search gaps and retirement.

routes.py (pages, blueprint `analytics`), api.py (JSON), services.py, rollups.py,
retirement.py, tables.py, tasks.py (rollups, expiry)."""
