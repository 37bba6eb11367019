"""Small segments searched as one (search/runs.py): a search answers exactly the
same whether the small segments that single-asset commits leave are searched one
by one or as one run, and a run is one leaf."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from search import runs
from search.index import ASSETS, PAGES, SearchIndex
from tests.search.test_index import asset, page

WORDS = ["pricing", "healthcare", "security", "onboarding", "roi", "payback", "cloud", "migration", "hospital",
         "compliance", "network", "patient", "care", "partner", "channel", "renewal", "discount", "tiers"]
TODAY = date(2026, 6, 1)


def _doc(rng: random.Random, n: int, version: int = 0):
    title = " ".join(rng.sample(WORDS, 2)) + f" deck {n}"
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40)))
    doc = asset(n, title, text, tags=rng.sample(["pricing", "healthcare", "security", "emea"], rng.randint(0, 2)),
                content_type=rng.choice(["deck", "datasheet", "case_study"]),
                product=rng.choice(["Care", "Platform", None]), region=rng.choice(["NA", "EMEA", "APAC"]),
                status=rng.choice(["published"] * 5 + ["retired", "draft"]),
                expires_on=rng.choice([None, None, TODAY - timedelta(days=1), TODAY + timedelta(days=30)]),
                rating_average=rng.choice([None, 2.5, 4.0, 5.0]), usage_count=rng.randint(0, 50),
                updated_at=datetime(2026, 1, 1) + timedelta(hours=n * 7 + version))
    pages = []
    for k in range(1, rng.randint(2, 4)):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        copy_of = rng.choice([None, None, None, 1000 + k])  # some slides are copies of asset 1's slide k
        slide = page(n * 1000 + k, doc, k, f"{rng.choice(WORDS)} slide {k}", words)
        if copy_of and n != 1:
            slide.group_id = copy_of
        pages.append(slide)
    return doc, pages


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    """One rebuilt segment of 60 assets, then single-asset commits (new and replaced
    assets, a deletion) left unmerged: many small segments after the large one."""
    rng = random.Random(14)
    ix = SearchIndex(str(tmp_path_factory.mktemp("runs") / "ix"))
    ix.ensure()
    ix.merges.request = lambda: None  # the small segments stay
    ix.rebuild([[_doc(rng, n) for n in range(1, 61)]])
    for n in [61, 62, 5, 63, 9, 64, 65, 5, 66, 30, 67, 68]:
        ix.update_assets([_doc(rng, n, version=1)])
    ix.delete_asset(62)
    ix.update_assets([_doc(rng, 69)])
    yield ix
    ix.close()


QUERIES = [
    ("pricing", {}, "relevance"), ("pricing healthcare", {}, "relevance"), ('"pricing healthcare"', {}, "relevance"),
    ("pric*", {}, "relevance"), ("security -cloud", {}, "relevance"), ("roi OR payback", {}, "relevance"),
    ("care", {"region": "EMEA"}, "relevance"), ("hospital", {"tag": "pricing", "product": "Care"}, "relevance"),
    ("", {}, "relevance"), ("", {"content_type": "datasheet"}, "rating"), ("onboarding", {}, "usage"),
    ("deck", {}, "newest"), ("pricng", {}, "relevance"), ("absentword", {}, "relevance"),
]


def _answers(ix: SearchIndex) -> list:
    ix.searchers.close()  # the next searchers lay out their leaves again
    out = []
    for text, filters, sort in QUERIES:
        for hidden in (False, True):
            for number in (1, 2):
                found = ix.search_assets(text, filters=filters, sort=sort, page=number, per_page=7,
                                         include_hidden=hidden, today=TODAY)
                out.append((text, filters, sort, hidden, number, found.total, found.facets, found.suggestion,
                            [(hit.asset_id, round(hit.score, 3)) for hit in found.hits]))
            slides = ix.search_pages(text, filters=filters, include_hidden=hidden, today=TODAY, per_page=10)
            out.append((text, filters, "slides", hidden, slides.total, slides.facets,
                        [(hit.page_id, round(hit.score, 3), hit.others) for hit in slides.hits]))
    for asset_id in (1, 5, 30):
        out.append(("more like", asset_id, ix.more_like_this(asset_id, include_hidden=True, today=TODAY)))
    return out


def _leaves(ix: SearchIndex, indexname: str) -> list:
    with ix.searchers.lend(indexname) as searcher:
        return ix.segments.leaves(searcher)


def test_small_segments_searched_as_one_answer_the_same(index, monkeypatch):
    monkeypatch.setattr(runs, "RUN_BELOW", 0)  # every segment alone, as before runs
    alone = _answers(index)
    assert len(_leaves(index, ASSETS)) >= 10 and len(_leaves(index, PAGES)) >= 10
    monkeypatch.setattr(runs, "RUN_BELOW", 20)  # the rebuilt segment alone, the commits' segments one run
    joined = _answers(index)
    for leaves, large in ((_leaves(index, ASSETS), 60), (_leaves(index, PAGES), 100)):
        assert len(leaves) == 2, [leaf[2].size for leaf in leaves]
        assert leaves[0][2].size >= large and isinstance(leaves[1][2], runs.SegmentRun)
        assert leaves[1][3] is not None and not leaves[1][3].all()  # the deleted and replaced documents
    assert joined == alone
    assert any(entry[5] for entry in alone if len(entry) == 9)  # the queries found something to compare


def test_only_consecutive_small_segments_join(monkeypatch):
    class Data:
        live = None

        def __init__(self, size):
            self.size = size

    monkeypatch.setattr(runs, "SegmentRun", lambda leaves: Data(sum(leaf[2].size for leaf in leaves)))
    monkeypatch.setattr(runs, "RUN_BELOW", 10)
    sizes = [50, 3, 4, 40, 2, 1, 1, 9]
    offsets = [sum(sizes[:n]) for n in range(len(sizes))]
    leaves = [(None, offset, Data(size), None) for offset, size in zip(offsets, sizes, strict=True)]
    joined = runs.join_small_segments(leaves)
    assert [(offset, data.size) for _, offset, data, _ in joined] == [(0, 50), (50, 7), (57, 40), (97, 13)]
    monkeypatch.setattr(runs, "RUN_LIMIT", 12)  # 2 + 1 + 1 + 9 would be 13 documents
    joined = runs.join_small_segments(leaves)
    assert [(offset, data.size) for _, offset, data, _ in joined] == [(0, 50), (50, 7), (57, 40), (97, 4), (101, 9)]
    assert runs.join_small_segments(leaves[:2]) == leaves[:2]  # one small segment stays as it is
