"""Pages of rows: the one page-argument parser and the shape of a page of results."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select, func, select

from portal.errors import InvalidInput
from portal.extensions import db

MAX_PAGE = 10_000
MAX_PER_PAGE = 100


@dataclass
class Listing:
    """One page of rows, shaped for templates/_pager.html and the API's listing()."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def count_rows(query: Select) -> int:
    """How many rows a query yields (the total of a Listing)."""
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def page_number(args: Mapping[str, str]) -> int:
    """The page number of a page people click (see page_args)."""
    return page_args(args)[0]


def page_args(args: Mapping[str, str], default_per_page: int = 20, *, strict: bool = False,
              max_page: int = MAX_PAGE) -> tuple[int, int]:
    """(page, per_page) from query arguments.

    strict (the API): bad or out-of-range values are refused with a 400 and
    per_page may be chosen (1 to 100). Otherwise (pages people click): a bad
    page number shows the nearest page there is, and per_page is the default.
    """
    if not strict:
        try:
            page = int(args.get("page", 1))
        except (TypeError, ValueError):
            page = 1
        return max(1, min(page, max_page)), default_per_page
    try:
        page = int(args.get("page", 1))
        per_page = int(args.get("per_page", default_per_page))
    except (TypeError, ValueError):
        raise InvalidInput("page and per_page must be whole numbers.", status=400) from None
    if not 1 <= page <= max_page or not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"page is between 1 and {max_page}; per_page is between 1 and {MAX_PER_PAGE}.",
                           status=400)
    return page, per_page
