"""Administration: users, roles, teams and regions; API tokens; system health.

routes.py (pages, blueprint `admin`), services.py."""
