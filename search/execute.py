"""Running a search: parse what was typed, match it segment by segment, widen
plain words when nothing has them all, rank or sort, cut the page, count facets.

Searches run on a pooled searcher (search/searchers.py) over the cached data of
its segments (search/segments.py); matching and ranking are search/matching.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from whoosh import query as q
from whoosh.reading import ReaderClosed

from search import spelling
from search.grouping import top_groups
from search.matching import (
    CollectionStats,
    Match,
    SegmentMatcher,
    count_matches,
    facet_counts,
    top_by_column,
    top_by_relevance,
)
from search.query import filter_terms, has_operators, parse
from search.results import SearchResults
from search.schema import ASSETS, ID_COLUMNS
from search.searchers import SearcherPool
from search.segments import SegmentCache

SORT_COLUMNS = {"rating": "rating", "usage": "usage", "newest": "updated"}
MAX_PER_PAGE = 200
MLT_TERMS = 12


def ids_of(matches: list[Match], docnum: int) -> dict[str, int]:
    """The ids of a document (global docnum), from its segment's id columns."""
    for match in matches:
        if match.offset <= docnum < match.offset + match.data.size:
            columns, local = match.data.columns, docnum - match.offset
            return {name: int(columns[column][local]) for name, column in ID_COLUMNS.items() if column in columns}
    raise KeyError(docnum)


def visible_day(include_hidden: bool, today: date | None) -> int | None:
    """The day whose visibility rule applies (None: show hidden items too)."""
    return None if include_hidden else (today or date.today()).toordinal()


class QueryRunner:
    def __init__(self, searchers: SearcherPool, segments: SegmentCache):
        self.searchers = searchers
        self.segments = segments

    def matches(self, searcher, query: q.Query, filters: tuple, visible_on: int | None,
                scored: bool) -> list[Match]:
        """Per segment, the live documents matching the query and the filters, with scores."""
        leaves = self.segments.leaves(searcher)
        stats = CollectionStats(searcher, leaves)
        out = []
        for sub, offset, data, live in leaves:
            allowed = data.allowed(sub.reader(), filters, visible_on)
            if allowed is not None and not allowed.any():
                out.append(Match(offset, data, allowed, None))
                continue
            if live is not None:
                allowed = live if allowed is None else allowed & live
            mask, scores = SegmentMatcher(sub, data, stats, scored, allowed).evaluate(query)
            if allowed is not None:
                mask = mask & allowed
            out.append(Match(offset, data, mask, scores))
        return out

    def search(self, indexname: str, fields: dict, text: str, *, filters: dict[str, str] | None,
               visible_on: int | None, sort: str, page: int, per_page: int,
               hit: Callable[..., object], grouped_on: int | None = None) -> SearchResults:
        """One page of results; `hit` makes a result's hit from its stored fields and score
        (and, grouped, the other copies' page ids). `grouped_on`: a day, to show each
        lineage group once, as its copy published that day (search/grouping.py)."""
        for attempt in (1, 2):
            try:
                with self.searchers.lend(indexname) as searcher:
                    return self._search(searcher, fields, text, filters, visible_on, sort, page, per_page, hit,
                                        grouped_on)
            except ReaderClosed:
                # A searcher went stale in a way up_to_date() did not show (it was
                # closed, not given back): drop the idle ones too and search once more.
                if attempt == 2:
                    raise
                self.searchers.close()

    def _search(self, searcher, fields, text, filters, visible_on, sort, page, per_page, hit,
                grouped_on) -> SearchResults:
        schema = searcher.schema
        parsed = parse(text, schema, fields)
        if searcher.doc_count_all() == 0:
            return SearchResults([], 0, facet_counts([]), None, parsed.terms)
        terms_filter = filter_terms(filters)
        page, per_page = max(1, page), max(1, min(per_page, MAX_PER_PAGE))
        depth = page * per_page
        column = SORT_COLUMNS.get(sort)
        if not parsed.text and not column:
            column = "updated"  # browsing: newest first
        matches = self.matches(searcher, parsed.query, terms_filter, visible_on, scored=column is None)
        total = count_matches(matches)
        if total == 0 and parsed.text and not has_operators(parsed.text):
            # Nothing has every word: widen to any word, best matches first.
            wider = parse(text, schema, fields, conjunction=False)
            wider_matches = self.matches(searcher, wider.query, terms_filter, visible_on, scored=column is None)
            wider_total = count_matches(wider_matches)
            if wider_total:
                parsed, matches, total = wider, wider_matches, wider_total
        start = (page - 1) * per_page
        excess = None
        if grouped_on is not None:
            grouped = top_groups(matches, depth, grouped_on, column, start)
            total, excess = grouped.total, grouped.facet_excess
            hits = [hit(ids_of(matches, group.docnum), group.score if not column else 0.0, group.others)
                    for group in grouped.hits]
        else:
            if column:
                ranked = [(docnum, 0.0) for docnum in top_by_column(matches, column, depth)]
            else:
                ranked = top_by_relevance(matches, depth)
            hits = [hit(ids_of(matches, docnum), score) for docnum, score in ranked[start:]]
        suggestion = spelling.suggest(searcher, parsed.text, total, fields, self.searchers.lend,
                                      lambda speller, name, stem: self._occurs(speller, name, stem, visible_on))
        return SearchResults(hits, total, facet_counts(matches, excess), suggestion, parsed.terms)

    def _occurs(self, searcher, fieldname: str, stem: str, visible_on: int | None) -> bool:
        """Whether a live document visible on that day has the word in that field."""
        return count_matches(self.matches(searcher, q.Term(fieldname, stem), (), visible_on, scored=False)) > 0

    def more_like_this(self, asset_id: int, *, limit: int, visible_on: int | None) -> list[int]:
        with self.searchers.lend(ASSETS) as searcher:
            docnum = searcher.document_number(asset_id=str(asset_id))
            sample = (searcher.stored_fields(docnum).get("mlt") or "") if docnum is not None else ""
            if not sample.strip():
                return []
            # Whoosh picks the sample's most telling words; they are then searched like
            # any query (Whoosh's own more_like scores every candidate one call at a time).
            key_terms = searcher.key_terms_from_text("body", sample, numterms=MLT_TERMS)
            similar = q.Or([q.Term("body", word, boost=weight) for word, weight in key_terms])
            matches = self.matches(searcher, similar, (), visible_on, scored=True)
            found = [ids_of(matches, hit)["asset_id"] for hit, _ in top_by_relevance(matches, limit + 1)]
        return [other for other in found if other != asset_id][:limit]
