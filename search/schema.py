"""The index schemas. Bump SCHEMA_VERSION whenever they change: an index with
another version is rebuilt from the database."""

from __future__ import annotations

from whoosh import formats
from whoosh.analysis import Filter, StemmingAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, FieldType, Schema

SCHEMA_VERSION = "7"

# A generation holds two indexes: assets and their pages (slides).
ASSETS, PAGES = "assets", "pages"
# Single-valued facets are sortable ID columns; tags are a multi-valued keyword field.
SINGLE_FACETS = ("content_type", "product", "stage", "region", "persona")
# No expiry is stored as this day number, so "not expired" is one range query.
NEVER = 99_999_999

ANALYZER = StemmingAnalyzer()


class PairFilter(Filter):
    """Each two adjacent words as one token; nothing for fewer than two words
    (Whoosh's BiWordFilter fails on an empty stream)."""

    def __call__(self, tokens):
        previous = None
        for token in tokens:
            text = token.text
            if previous is not None:
                token.text = f"{previous} {text}"
                yield token
            previous = text


# Each text field has a twin holding its adjacent stemmed words as one term
# ("single sign" for "single sign-on"): a phrase is then looked up instead of
# checked position by position (the idea of Elasticsearch's index_phrases).
# Only the twins keep positions, for phrases of three words or more (their pairs
# in a row); the word fields keep frequencies only, which makes their postings
# several times faster to read.
PAIR_ANALYZER = ANALYZER | PairFilter()
PAIR_FIELDS = {"title": "title_pairs", "body": "body_pairs"}
# Fields scored with BM25F (their per-document lengths are read for it).
SCORED_FIELDS = ("title", "body")


def _pairs() -> FieldType:
    # Scorable only so that Whoosh keeps a length column: without one its writer
    # looks for the column on disk once per posting.
    return FieldType(formats.Positions(), PAIR_ANALYZER, scorable=True)


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


def asset_schema() -> Schema:
    return Schema(
        asset_id=ID(stored=True, unique=True),
        title=TEXT(analyzer=ANALYZER, phrase=False, field_boost=4.0, spelling=True),
        body=TEXT(analyzer=ANALYZER, phrase=False),  # description, tags, owner, extracted text
        title_pairs=_pairs(),
        body_pairs=_pairs(),
        stamp=STORED(),  # updated_at of the database row, for `check`
        mlt=STORED(),  # a bounded sample of the text, for "more like this"
        **_common(),
    )


def page_schema() -> Schema:
    return Schema(
        page_id=ID(stored=True, unique=True),
        asset_id=ID(stored=True),
        number=NUMERIC(int, stored=True, shift_step=0),
        title=TEXT(analyzer=ANALYZER, phrase=False, field_boost=3.0, spelling=True),
        # Slide text, speaker notes, the deck's title; its unstemmed words feed "did you mean".
        body=TEXT(analyzer=ANALYZER, phrase=False, spelling=True),
        title_pairs=_pairs(),
        body_pairs=_pairs(),
        **_common(),
    )
