"""The index schemas. Bump SCHEMA_VERSION whenever they change: an index with
another version is rebuilt from the database."""

from __future__ import annotations

from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

SCHEMA_VERSION = "4"

FACET_FIELDS = ("content_type", "product", "stage", "region", "persona", "tag")
# Single-valued facets are sortable ID columns; tags are a multi-valued keyword field.
SINGLE_FACETS = ("content_type", "product", "stage", "region", "persona")
# No expiry is stored as this day number, so "not expired" is one range query.
NEVER = 99_999_999

ANALYZER = StemmingAnalyzer()


def _common() -> dict:
    facets = {name: ID(sortable=True) for name in SINGLE_FACETS}
    return {
        **facets,
        "tags": KEYWORD(lowercase=True, commas=True, scorable=True),
        "status": ID(),
        "expires": NUMERIC(int, bits=32, sortable=True),
        # Hundredths of a star: Whoosh's float columns cannot be written (NaN default).
        "rating": NUMERIC(int, bits=32, sortable=True),
        "usage": NUMERIC(int, bits=32, sortable=True),
        "updated": NUMERIC(int, bits=64, sortable=True),
    }


# Text goes into two fields, a boosted title and one body: every query word then
# walks two posting lists instead of one per source field, which is what keeps
# Whoosh (pure Python) fast on large result sets.


def asset_schema() -> Schema:
    return Schema(
        asset_id=ID(stored=True, unique=True),
        title=TEXT(analyzer=ANALYZER, field_boost=4.0, spelling=True),
        body=TEXT(analyzer=ANALYZER),  # description, tags, owner, extracted text
        stamp=STORED(),  # updated_at of the database row, for `check`
        mlt=STORED(),  # a bounded sample of the text, for "more like this"
        **_common(),
    )


def page_schema() -> Schema:
    return Schema(
        page_id=ID(stored=True, unique=True),
        asset_id=ID(stored=True),
        number=NUMERIC(int, stored=True),
        title=TEXT(analyzer=ANALYZER, field_boost=3.0, spelling=True),
        # Slide text, speaker notes, the deck's title; its unstemmed words feed "did you mean".
        body=TEXT(analyzer=ANALYZER, spelling=True),
        **_common(),
    )
