"""What every page shares: the navigation each role sees, the favicon, and
templates that a Content-Security-Policy without 'unsafe-inline' can serve."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.models import ROLES

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
NAV_LINKS = {"Upload": ("marketer", "admin"), "Reviews": ("enablement", "admin"),
             "Analytics": ("marketer", "enablement", "admin"), "Admin": ("admin",)}


@pytest.mark.parametrize("role", ROLES)
def test_navigation_follows_the_role_groups(client, auth, factories, role):
    auth.login(factories.user(role))
    nav = re.search(r"<nav>(.*?)</nav>", client.get("/library").get_data(as_text=True), re.S).group(1)
    shown = {label for label in NAV_LINKS if re.search(rf">{label}<", nav)}
    assert shown == {label for label, roles in NAV_LINKS.items() if role in roles}


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.get_data().lstrip().startswith(b"<svg")
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/login").get_data(as_text=True)


def _templates():
    return sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_templates_keep_scripts_styles_and_roles_out(path):
    text = path.read_text()
    # Scripts come from files; a JSON data island is not a script.
    assert re.findall(r"<script(?![^>]*\b(?:src|type=\"application/json\"))[^>]*>", text) == []
    assert re.findall(r"\son[a-z]+\s*=", text) == []
    assert "javascript:" not in text
    # Looks come from the stylesheet; only a value computed per row (a bar's width) stays on the element.
    assert "<style" not in text
    assert re.findall(r'style="(?!width: \{\{)', text) == []
    # Role groups are defined once in portal/models.py; templates ask the user (is_staff, can_publish, ...).
    assert re.findall(rf"""['"]({'|'.join(ROLES)})['"]""", text) == []
