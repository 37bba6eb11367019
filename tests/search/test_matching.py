"""The bulk readers of search/whoosh_internals.py and search/segments.py agree with Whoosh's own per-document ones."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np

from search.index import ASSETS, SearchIndex
from search.schema import SCORED_FIELDS, SINGLE_FACETS
from search.segments import PostingsCache, SegmentData
from search.whoosh_internals import numeric_field_column, read_postings
from tests.search.test_index import CORPUS, asset


def _segments(index: SearchIndex):
    with index.searchers.lend(ASSETS) as searcher:
        return [sub.reader() for sub, _ in searcher.leaf_searchers()]


def test_bulk_columns_lengths_and_facets_match_whoosh(tmp_path):
    index = SearchIndex(str(tmp_path / "ix"))
    index.ensure()
    index.update_assets([(doc, []) for doc in CORPUS])
    index.update_assets([(asset(7, "Late", "words " * 40, rating_average=4.25, usage_count=123456,
                                 expires_on=date(2031, 5, 6), updated_at=datetime(2040, 1, 1)), [])])
    readers = _segments(index)
    assert len(readers) >= 1
    for reader in readers:
        size = reader.doc_count_all()
        for name in ("rating", "usage", "updated", "expires"):
            assert numeric_field_column(reader, name).tolist() == list(reader.column_reader(name)), name
        data = SegmentData(reader, SCORED_FIELDS, PostingsCache())
        for field in SCORED_FIELDS:
            expected = [reader.doc_field_length(d, field, 0) or 0 for d in range(size)]
            assert data.lengths[field].tolist() == [float(v) for v in expected], field
        for name in SINGLE_FACETS:
            decoded = [data.facet_values[name][code] for code in data.facet_codes[name]]
            assert decoded == [v.decode() if isinstance(v, bytes) else v for v in reader.column_reader(name)]
    index.close()


def test_postings_read_in_bulk_match_whoosh_matcher(tmp_path):
    index = SearchIndex(str(tmp_path / "ix"))
    index.ensure()
    many = [(asset(n, f"Deck {n}", "pricing " * (n % 7 + 1) + "hospital"), []) for n in range(1, 400)]
    index.update_assets(many)  # several posting blocks per term
    for reader in _segments(index):
        for field, text in (("body", "price"), ("title", "deck"), ("body", "hospit"), ("body", "absent")):
            ids, weights = read_postings(reader, field, text)
            expected_ids, expected_weights = [], []
            if (field, text) in reader:
                matcher = reader.postings(field, text)
                while matcher.is_active():
                    expected_ids.append(matcher.id())
                    expected_weights.append(matcher.weight())
                    matcher.next()
            assert ids.tolist() == expected_ids
            assert np.allclose(weights, expected_weights)
    index.close()


def test_postings_read_in_bulk_keep_deleted_documents_as_whoosh_counts_them(tmp_path):
    index = SearchIndex(str(tmp_path / "ix"))
    index.ensure()
    index.merges.request = lambda: None
    index.update_assets([(asset(n, f"Deck {n}", "pricing" if n < 3 else "other"), []) for n in range(1, 6)])
    index.delete_asset(1)
    index.delete_asset(2)  # every posting of "price" is deleted
    [reader] = _segments(index)
    ids, _ = read_postings(reader, "body", "price")
    assert ids.tolist() == [0, 1] and len(ids) == reader.doc_frequency("body", "price")
    assert index.search_assets("pricing", include_hidden=True).total == 0
    index.close()


def test_postings_cache_keeps_recent_entries_within_its_budget():
    cache = PostingsCache(budget=8 * 1000)
    loads = []

    def entry(n):
        def load():
            loads.append(n)
            return np.arange(n, n + 100, dtype=np.int32), np.ones(100, dtype=np.float32)  # 800 bytes
        return load

    for n in range(12):
        cache.get((n,), entry(n))
    assert cache._bytes <= cache.budget
    cache.get((11,), entry(11))  # recent: still there
    cache.get((0,), entry(0))  # oldest: dropped, loaded again
    assert loads == list(range(12)) + [0]
    assert cache.get((5, "x"), lambda: (np.zeros(10_000, np.int32), np.zeros(10_000, np.float32)))[0].size == 10_000
    assert (5, "x") not in cache._entries  # larger than an eighth of the budget: not kept
