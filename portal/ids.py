"""Ids and other whole numbers from URLs, query strings and JSON, bounded by what
the database holds: ids and counts are `Integer` columns, PostgreSQL's 4-byte
int4, so a larger number would fail in the database (a 500) instead of matching
nothing. Every `<int:...>` in a route is bounded the same way (IdConverter, the
app's `int` converter), so a too-large id in a URL is simply not found (404)."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest value of an Integer column (PostgreSQL int4)


def whole_number(raw: object) -> int:
    """0..MAX_ID from a JSON number or digits; ValueError otherwise (also usable as
    `request.args.get(name, type=whole_number)`, which turns the error into None)."""
    if isinstance(raw, bool):
        raise ValueError(f"not a whole number: {raw!r}")
    if isinstance(raw, str):
        text = raw.strip()
        if not text.isascii() or not text.isdigit():
            raise ValueError(f"not a whole number: {raw!r}")
        raw = int(text)
    if not isinstance(raw, int) or not 0 <= raw <= MAX_ID:
        raise ValueError(f"not a whole number from 0 to {MAX_ID}: {raw!r}")
    return raw


class IdConverter(IntegerConverter):
    """`<int:name>` in routes: as Werkzeug's, with MAX_ID as the default maximum."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (Werkzeug's signature)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
