"""Signing in and out, and API tokens.

routes.py (pages, blueprint `auth`), api.py (JSON: tokens), signin.py (checking a
password: throttling, the same hash work for unknown accounts, the audit log),
passwords.py (which passwords may be set)."""
