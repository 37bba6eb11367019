"""Signing in and out, and API tokens.

routes.py (pages, blueprint `auth`), api.py (JSON: tokens)."""
