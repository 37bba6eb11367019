"""The index schemas. Bump SCHEMA_VERSION whenever they change: an index with
another version is rebuilt from the database."""

from __future__ import annotations

from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, Schema

from search.sequences import SequencedText

SCHEMA_VERSION = "10"

# A generation holds two indexes: assets and their pages (slides).
ASSETS, PAGES = "assets", "pages"
# Single-valued facets are sortable ID columns; tags are a multi-valued keyword field.
SINGLE_FACETS = ("content_type", "product", "stage", "region", "persona")
# No expiry is stored as this day number, so "not expired" is one range query.
NEVER = 99_999_999

ANALYZER = StemmingAnalyzer()

# The text fields keep frequencies only (their postings are what every query
# reads); each one's column keeps its words in order, read by phrase queries
# only (search/sequences.py).
SEQUENCED_FIELDS = ("title", "body")
# Fields scored with BM25F (their per-document lengths are read for it).
SCORED_FIELDS = ("title", "body")


def _text(**options) -> SequencedText:
    return SequencedText(ANALYZER, **options)


def _column(bits: int) -> NUMERIC:
    # Read as columns (visibility, sorting, blending), never as range queries, so
    # one term per document instead of Whoosh's default bits/4 (its trie terms
    # were most of the postings written per document).
    return NUMERIC(int, bits=bits, sortable=True, shift_step=0)


def _common() -> dict:
    facets = {name: ID(sortable=True) for name in SINGLE_FACETS}
    return {
        **facets,
        "tags": KEYWORD(lowercase=True, commas=True, scorable=True),
        "status": ID(),
        "expires": _column(32),
        # Hundredths of a star: Whoosh's float columns cannot be written (NaN default).
        "rating": _column(32),
        "usage": _column(32),
        "updated": _column(64),
    }


# Text goes into two fields, a boosted title and one body: every query word then
# walks two posting lists instead of one per source field, which is what keeps
# Whoosh (pure Python) fast on large result sets.


# The ids again as columns: a page of hits reads them in bulk, not document by document.
ID_COLUMNS = {"asset_id": "asset_key", "page_id": "page_key"}
# What slide search reads to show each lineage group once (pages only).
GROUP_COLUMNS = ("group", "version_created")


def asset_schema() -> Schema:
    return Schema(
        asset_id=ID(stored=True, unique=True),
        asset_key=_column(64),
        title=_text(field_boost=4.0, spelling=True),
        body=_text(),  # description, tags, owner, extracted text
        stamp=STORED(),  # updated_at of the database row, for `check`
        mlt=STORED(),  # a bounded sample of the text, for "more like this"
        **_common(),
    )


def page_schema() -> Schema:
    return Schema(
        page_id=ID(stored=True, unique=True),
        asset_id=ID(stored=True),
        page_key=_column(64),
        asset_key=_column(64),
        number=NUMERIC(int, stored=True, shift_step=0),
        title=_text(field_boost=3.0, spelling=True),
        # Slide text, speaker notes, the deck's title; its unstemmed words feed "did you mean".
        body=_text(spelling=True),
        # Slide lineage: copies of one slide share a group (a slide alone is its own
        # group), and slide search shows each group once, as its newest published copy.
        group=_column(64),
        version_created=_column(64),
        **_common(),
    )
