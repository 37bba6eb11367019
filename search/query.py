"""Turning what a person typed into a Whoosh query, never raising.

Supported: stemming and case folding, "phrases", field queries (title:,
tag:, product:, type:, stage:, region:, persona:), prefixes (pric*),
AND / OR / NOT and parentheses. Anything the parser cannot make sense of
falls back to the plain words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from itertools import accumulate

from whoosh import qparser
from whoosh import query as q

from search.schema import ANALYZER, NEVER, SINGLE_FACETS

MAX_QUERY_CHARS = 500
ASSET_FIELDS = {"title": 4.0, "body": 1.0}
PAGE_FIELDS = {"title": 3.0, "body": 1.0}
FIELD_ALIASES = {"tags": ["tag"], "content_type": ["type"], "body": ["text", "description", "notes"]}
FACET_FIELD_NAMES = {"tag": "tags"}


@dataclass
class ParsedQuery:
    query: q.Query
    text: str
    terms: list[str]  # stemmed words and prefixes ("pric*") for highlighting
    fallback: bool = False


def clean_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:MAX_QUERY_CHARS]


def _parser(schema, fields: dict[str, float], group) -> qparser.QueryParser:
    parser = qparser.MultifieldParser(list(fields), schema=schema, fieldboosts=fields, group=group)
    parser.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
    parser.remove_plugin_class(qparser.WildcardPlugin)
    parser.add_plugin(qparser.PrefixPlugin())
    return parser


def _words(text: str) -> list[str]:
    return [token.text for token in ANALYZER(text)]


def _plain(text: str, fields: dict[str, float], conjunction: bool) -> q.Query:
    words = _words(re.sub(r"[^\w\s]", " ", text))
    if not words:
        return q.NullQuery
    per_word = [q.Or([q.Term(f, w, boost=b) for f, b in fields.items()]) for w in words]
    return q.And(per_word) if conjunction else q.Or(per_word)


def query_terms(query: q.Query) -> list[str]:
    terms: list[str] = []
    for sub in query.leaves():
        if isinstance(sub, q.Prefix):
            terms.append(f"{sub.text}*")
        elif isinstance(sub, q.Term) and isinstance(sub.text, str):
            terms.append(sub.text)
        elif isinstance(sub, q.Phrase):
            terms.extend(sub.words)
    negated = set()
    for sub in _negated(query):
        negated.update(t for t in query_terms(sub))
    return list(dict.fromkeys(t for t in terms if t not in negated))


def _negated(query: q.Query):
    if isinstance(query, q.Not):
        yield query.query
    elif query.is_leaf():
        return
    else:
        for child in query.children():
            yield from _negated(child)


def parse(text: str, schema, fields: dict[str, float], *, conjunction: bool = True) -> ParsedQuery:
    """Parse a typed query; empty means everything."""
    text = clean_text(text)
    if not text:
        return ParsedQuery(q.Every(), "", [])
    group = qparser.AndGroup if conjunction else qparser.OrGroup
    try:
        parsed = _parser(schema, fields, group).parse(text)
        parsed = parsed.normalize()
        if parsed is q.NullQuery or isinstance(parsed, q.NullQuery.__class__) or not list(parsed.leaves()) \
                or _only_negative(parsed):
            raise ValueError("nothing to search for")
        return ParsedQuery(parsed, text, query_terms(parsed))
    except Exception:  # malformed syntax: search the plain words instead
        plain = _plain(text, fields, conjunction)
        return ParsedQuery(plain, text, query_terms(plain) if plain is not q.NullQuery else [], fallback=True)


def _only_negative(query: q.Query) -> bool:
    if isinstance(query, q.Not):
        return True
    if isinstance(query, q.And | q.Or):
        return all(_only_negative(child) for child in query.children())
    return False


def filter_terms(filters: dict[str, str] | None) -> tuple[tuple[str, str], ...]:
    """Exact-match facet filters as (index field, value) pairs; unknown names are ignored."""
    terms = []
    for name, value in sorted((filters or {}).items()):
        if value in (None, ""):
            continue
        field = FACET_FIELD_NAMES.get(name, name)
        if field == "tags":
            terms.append(("tags", str(value).lower()))
        elif field in SINGLE_FACETS:
            terms.append((field, str(value)))
    return tuple(terms)


def filter_query(filters: dict[str, str] | None, include_hidden: bool, today: date | None) -> q.Query | None:
    """Exact-match filters plus visibility (reps never see retired or expired items)."""
    parts: list[q.Query] = []
    for name, value in (filters or {}).items():
        if value in (None, ""):
            continue
        field = FACET_FIELD_NAMES.get(name, name)
        if field == "tags":
            parts.append(q.Term("tags", str(value).lower()))
        elif field in SINGLE_FACETS:
            parts.append(q.Term(field, str(value)))
    if not include_hidden:
        today = today or date.today()
        parts.append(q.Term("status", "published"))
        parts.append(q.NumericRange("expires", today.toordinal(), NEVER))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else q.And(parts)


# --- unscored matching, for exact totals and facet counts ------------------------
#
# Whoosh counts a result set by walking every posting one Python call at a time.
# Totals and facets need the whole matching set (not only the shown page), so the
# set is computed here per segment from whole posting blocks and combined with
# C-level set operations. Kinds this does not know fall back to Whoosh's matcher.


def term_docs(reader, fieldname: str, text) -> set[int]:
    from whoosh.matching.wrappers import FilterMatcher

    try:
        matcher = reader.postings(fieldname, text)
    except Exception:  # TermNotFound or a field this index lacks
        return set()
    if isinstance(matcher, FilterMatcher):  # deletions are subtracted by the caller
        matcher = matcher.child
    if not hasattr(matcher, "_read_data"):
        return set(matcher.all_ids())
    docs: set[int] = set()
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        ids = matcher._data[0]
        docs.update(ids if matcher._byteids else accumulate(ids))
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)
    return docs


def matching_docs(searcher, query: q.Query) -> set[int]:
    """Local docnums of one segment's searcher matching `query`, deletions not removed."""
    reader = searcher.reader()
    if isinstance(query, q.Term):
        return term_docs(reader, query.fieldname, query.text)
    if isinstance(query, q.Every):
        return set(range(reader.doc_count_all()))
    if query is q.NullQuery or isinstance(query, q.NullQuery.__class__):
        return set()
    if isinstance(query, q.And):
        positive = [c for c in query.children() if not isinstance(c, q.Not)]
        negative = [c.query for c in query.children() if isinstance(c, q.Not)]
        if not positive:
            docs = set(range(reader.doc_count_all()))
        else:
            sets = sorted((matching_docs(searcher, c) for c in positive), key=len)
            docs = sets[0].intersection(*sets[1:])
        for child in negative:
            if not docs:
                break
            docs -= matching_docs(searcher, child)
        return docs
    if isinstance(query, q.Or | q.DisjunctionMax):
        docs = set()
        for child in query.children():
            docs |= matching_docs(searcher, child)
        return docs
    if isinstance(query, q.AndNot):
        return matching_docs(searcher, query.a) - matching_docs(searcher, query.b)
    if isinstance(query, q.AndMaybe):
        return matching_docs(searcher, query.a)
    if isinstance(query, q.Require):
        return matching_docs(searcher, query.a) & matching_docs(searcher, query.b)
    if isinstance(query, q.Not):
        return set(range(reader.doc_count_all())) - matching_docs(searcher, query.query)
    if isinstance(query, q.Prefix):
        docs = set()
        for text in query._btexts(reader):
            docs |= term_docs(reader, query.fieldname, text)
        return docs
    if isinstance(query, q.Phrase):
        # Only documents holding every word can hold the phrase; Whoosh checks positions.
        words = [q.Term(query.fieldname, w) for w in query.words]
        candidates = matching_docs(searcher, q.And(words)) if words else set()
        if not candidates:
            return set()
        return set(query.docs(searcher)) & candidates
    return set(query.docs(searcher))
