"""Turning what a person typed into a Whoosh query, never raising.

Supported: stemming and case folding, "phrases", field queries (title:,
tag:, product:, type:, stage:, region:, persona:), prefixes (pric*, two
letters at least), AND / OR / NOT and parentheses. Anything the parser cannot
make sense of falls back to the plain words.

Every query's cost is bounded: no range syntax (`body:[a TO z]` walks the
whole term dictionary), at most MAX_QUERY_TERMS terms (longer queries keep
their first MAX_QUERY_WORDS words), and prefixes expand to a bounded number of
words (search/matching.py).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass

from whoosh import qparser
from whoosh import query as q

from search.schema import ANALYZER, SINGLE_FACETS
from search.whoosh_internals import is_null_query

MAX_QUERY_CHARS = 500
MAX_QUERY_TERMS = 32  # leaves of a parsed query (a word searches two fields)
MAX_QUERY_WORDS = 16  # what a longer query keeps
MIN_PREFIX_CHARS = 2  # "p*" searches the word "p"
ASSET_FIELDS = {"title": 4.0, "body": 1.0}
PAGE_FIELDS = {"title": 3.0, "body": 1.0}
FIELD_ALIASES = {"tags": ["tag"], "content_type": ["type"], "body": ["text", "description", "notes"]}
FACET_FIELD_NAMES = {"tag": "tags"}
# A query with operators, fields or phrases means exactly what it says; plain words may be widened.
OPERATORS = re.compile(r'\b(AND|OR|NOT)\b|["():*]')


@dataclass
class ParsedQuery:
    query: q.Query
    text: str
    terms: list[str]  # stemmed words and prefixes ("pric*") for highlighting


def clean_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:MAX_QUERY_CHARS]


_PARSERS = threading.local()  # a parser per thread, kind of query and schema: making one compiles regexes


def _parser(schema, fields: dict[str, float], group) -> qparser.QueryParser:
    key = (tuple(fields.items()), group, tuple(schema.names()))
    parsers = _PARSERS.__dict__.setdefault("parsers", {})
    parser = parsers.get(key)
    if parser is None:
        parser = qparser.MultifieldParser(list(fields), schema=schema, fieldboosts=fields, group=group)
        parser.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
        parser.remove_plugin_class(qparser.WildcardPlugin)
        parser.remove_plugin_class(qparser.RangePlugin)
        parser.add_plugin(qparser.PrefixPlugin())
        parsers[key] = parser
    return parser


def _words(text: str) -> list[str]:
    return [token.text for token in ANALYZER(text)]


def _plain(text: str, fields: dict[str, float], conjunction: bool) -> q.Query:
    words = _words(re.sub(r"[^\w\s]", " ", text))[:MAX_QUERY_WORDS]
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
        parsed = _no_short_prefixes(_parser(schema, fields, group).parse(text)).normalize()
        leaves = len(list(parsed.leaves()))
        if is_null_query(parsed) or not leaves or _only_negative(parsed):
            raise ValueError("nothing to search for")
        if leaves > MAX_QUERY_TERMS:
            raise ValueError("too many terms: keep the first words")
        return ParsedQuery(parsed, text, query_terms(parsed))
    except Exception:  # malformed syntax: search the plain words instead
        plain = _plain(text, fields, conjunction)
        return ParsedQuery(plain, text, query_terms(plain) if plain is not q.NullQuery else [])


def _no_short_prefixes(query: q.Query) -> q.Query:
    """A one-letter prefix expands to a large share of the dictionary: search the letter."""
    def shorten(node: q.Query) -> q.Query:
        if isinstance(node, q.Prefix) and len(node.text) < MIN_PREFIX_CHARS:
            return q.Term(node.fieldname, node.text, boost=node.boost)
        return node

    return query.accept(shorten)


def _only_negative(query: q.Query) -> bool:
    if isinstance(query, q.Not):
        return True
    if isinstance(query, q.And | q.Or):
        return all(_only_negative(child) for child in query.children())
    return False


def has_operators(text: str) -> bool:
    """True when the text says exactly what it means (operators, fields,
    phrases, prefixes), so it is neither widened nor spell-corrected."""
    return OPERATORS.search(text) is not None


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
