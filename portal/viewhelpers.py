"""Values every template can use, and the hooks other areas add to pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask, current_app
from flask_login import current_user

from portal import wording
from portal.models import CONTENT_TYPE_LABELS


def add_asset_page_section(app: Flask, name: str, build: Callable[[Any], Any]) -> None:
    """Let an area add a section to the asset page: build(asset) feeds templates/sections/NAME.html."""
    app.extensions.setdefault("collateral_asset_sections", {})[name] = build


def add_nav_badges(app: Flask, badges: Callable[[Any], dict[str, int]]) -> None:
    """Let an area add counts to the navigation: badges(user) -> {name: count}."""
    app.extensions.setdefault("collateral_nav_badges", []).append(badges)


def asset_page_sections(asset) -> dict[str, Any]:
    sections = current_app.extensions.get("collateral_asset_sections", {})
    return {name: build(asset) for name, build in sections.items()}


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def stars(average: float | None) -> str:
    if average is None:
        return "☆☆☆☆☆"
    full = int(round(average))
    return "★" * full + "☆" * (5 - full)


def nav_badges() -> dict[str, int]:
    badges: dict[str, int] = {}
    if current_user.is_authenticated:
        for badge in current_app.extensions.get("collateral_nav_badges", []):
            badges.update(badge(current_user))
    return badges


def has_endpoint(name: str) -> bool:
    return name in current_app.view_functions


def template_globals() -> dict[str, Any]:
    return {
        "has_endpoint": has_endpoint,
        "today": date.today(),
        "human_size": human_size,
        "stars": stars,
        "content_type_labels": CONTENT_TYPE_LABELS,
        "nav_badges": nav_badges,
        "plural": wording.plural,
        "noun_for": wording.noun_for,
        "page_label": wording.page_label,
        "processing_label": wording.processing_label,
    }
