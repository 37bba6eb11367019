"""Checking what reps send: ratings, reported uses, flags and notes (one message per field)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from portal.errors import InvalidInput
from portal.models import (
    OUTCOMES,
)

COMMENT_MAX = 5_000


NOTE_MAX = 5_000


NAME_MAX = 200  # account and opportunity columns


USE_KINDS = ("presented", "emailed", "shared", "printed", "other")


USE_KIND_LABELS = {"presented": "Presented", "emailed": "Emailed", "shared": "Shared", "printed": "Printed",
                   "other": "Other"}


FLAG_KINDS = ("outdated", "wrong", "off_brand")


FLAG_KIND_LABELS = {"outdated": "Outdated", "wrong": "Wrong", "off_brand": "Off-brand"}


USE_FIELDS = ("kind", "account", "opportunity", "outcome", "note", "occurred_on")


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _text(data: Mapping[str, Any], name: str, limit: int, errors: dict[str, str]) -> str:
    raw = data.get(name)
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors[name] = "Must be text."
        return ""
    text = raw.replace("\r\n", "\n").strip()
    if len(text) > limit:
        errors[name] = f"At most {limit:,} characters (this has {len(text):,})."
    return text


def parse_stars(raw: Any) -> int:
    """1 to 5 as a whole number (JSON number or form text); anything else is refused."""
    message = "Choose from 1 to 5 stars."
    if isinstance(raw, bool) or raw is None:
        raise InvalidInput("Stars are required: a whole number from 1 to 5.", {"stars": message})
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or not 1 <= raw <= 5:
        raise InvalidInput("Stars must be a whole number from 1 to 5.", {"stars": message})
    return raw


def parse_rating(data: Mapping[str, Any]) -> tuple[int, str]:
    errors: dict[str, str] = {}
    comment = _text(data, "comment", COMMENT_MAX, errors)
    try:
        stars = parse_stars(data.get("stars"))
    except InvalidInput as error:
        errors.update(error.fields)
        stars = 0
    if errors:
        raise InvalidInput("The rating needs attention.", errors)
    return stars, comment


def _parse_date(raw: Any, errors: dict[str, str], today: date) -> date | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return today
    if not isinstance(raw, str) or not ISO_DATE.match(raw.strip()):
        errors["occurred_on"] = "Use a date like 2026-03-31."
        return None
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        errors["occurred_on"] = "That date does not exist."
        return None
    if value > today:
        errors["occurred_on"] = "The date cannot be in the future."
        return None
    return value


def parse_use(data: Mapping[str, Any], *, partial: bool = False, today: date | None = None) -> dict[str, Any]:
    """Validate a reported use from a form or JSON body.

    partial=True (edits) keeps only the fields that were sent and refuses an
    empty change; otherwise `kind` is required and the date defaults to today.
    """
    today = today or date.today()
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    sent = [name for name in USE_FIELDS if name in data]
    if partial and not sent:
        raise InvalidInput(f"Nothing to change: send one or more of {', '.join(USE_FIELDS)}.", status=422)
    if "kind" in data or not partial:
        kind = data.get("kind")
        if kind not in USE_KINDS:
            errors["kind"] = f"Choose one of: {', '.join(USE_KINDS)}."
        values["kind"] = kind
    if "outcome" in data or not partial:
        outcome = data.get("outcome")
        if outcome in (None, ""):
            values["outcome"] = None
        elif outcome in OUTCOMES:
            values["outcome"] = outcome
        else:
            errors["outcome"] = f"Choose one of: {', '.join(OUTCOMES)}, or leave it empty."
    for name, limit in (("account", NAME_MAX), ("opportunity", NAME_MAX), ("note", NOTE_MAX)):
        if name in data or not partial:
            values[name] = _text(data, name, limit, errors)
    if "occurred_on" in data or not partial:
        values["occurred_on"] = _parse_date(data.get("occurred_on"), errors, today)
    if errors:
        raise InvalidInput("The reported use needs attention.", errors)
    return values


def parse_flag(data: Mapping[str, Any]) -> tuple[str, str]:
    errors: dict[str, str] = {}
    kind = data.get("reason_kind")
    if kind not in FLAG_KINDS:
        errors["reason_kind"] = f"Choose one of: {', '.join(FLAG_KINDS)}."
    reason = _text(data, "reason", NOTE_MAX, errors)
    if not reason and "reason" not in errors:
        errors["reason"] = "Say what is wrong, so the owner can fix it."
    if errors:
        raise InvalidInput("The flag needs attention.", errors)
    return kind, reason


def parse_note(data: Mapping[str, Any]) -> str:
    errors: dict[str, str] = {}
    note = _text(data, "note", NOTE_MAX, errors)
    if errors:
        raise InvalidInput("The note needs attention.", errors)
    return note
