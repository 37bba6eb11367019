"""No query costs a hundred times a normal one: no range syntax, a bound on the
terms of a query, and on the words its prefixes expand to."""

from __future__ import annotations

import string
from datetime import datetime

from whoosh import query as q

from search.index import SearchIndex
from search.matching import MAX_EXPANDED_TERMS
from search.query import ASSET_FIELDS, MAX_QUERY_TERMS, MAX_QUERY_WORDS, parse
from search.schema import asset_schema
from tests.search.test_index import asset


def _leaves(text: str) -> list[q.Query]:
    return list(parse(text, asset_schema(), ASSET_FIELDS).query.leaves())


def test_range_syntax_is_searched_as_words():
    leaves = _leaves("body:[a TO z]")
    assert leaves and not any(isinstance(leaf, q.TermRange | q.NumericRange) for leaf in leaves)


def test_one_letter_prefixes_search_the_letter_and_long_queries_keep_their_first_words():
    assert not any(isinstance(leaf, q.Prefix) for leaf in _leaves("p*"))
    assert len(_leaves(" ".join(f"{c}*" for c in string.ascii_lowercase * 7))) <= MAX_QUERY_TERMS
    gibberish = " ".join(f"zq{n}x" for n in range(83))
    words = {leaf.text for leaf in _leaves(gibberish)}
    assert len(words) == MAX_QUERY_WORDS and "zq0x" in words and "zq82x" not in words
    assert {leaf.text for leaf in _leaves("pric* hospital")} >= {"pric", "hospit"}  # normal queries keep all


def test_prefixes_expand_to_a_bounded_number_of_words(tmp_path):
    index = SearchIndex(str(tmp_path / "index"))
    index.ensure()
    count = MAX_EXPANDED_TERMS + 100
    index.update_assets([(asset(n, f"Sheet {n}", f"code pa{n:04d}x", updated_at=datetime(2026, 1, 1)), [])
                         for n in range(1, count + 1)])  # one commit: one segment
    assert index.search_assets("code").total == count
    assert index.search_assets("pa*").total == MAX_EXPANDED_TERMS
    assert index.search_assets("pa0001*").total == 1
