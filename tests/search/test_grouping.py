"""Slide search shows each lineage group (copies of one slide across decks) once,
over the whole result: the group ranks by its best copy, shows its newest
published copy with the others listed, and totals and facets count groups."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from search.documents import PageDocument
from search.index import SearchIndex
from tests.search.test_index import asset, page


def copy_of(page_id: int, doc, title: str, text: str, group: int | None, created_day: int) -> PageDocument:
    found = page(page_id, doc, 1, title, text)
    found.group_id = group
    found.version_created = datetime(2026, 1, 1) + timedelta(days=created_day)
    return found


@pytest.fixture
def index(tmp_path):
    ix = SearchIndex(str(tmp_path / "index"), lock_timeout=5)
    ix.ensure()
    yield ix
    ix.close()


def shown(results) -> list[tuple[int, list[int]]]:
    return [(hit.page_id, hit.others) for hit in results.hits]


def test_copies_collapse_to_the_newest_published_one_ranked_by_the_best_copy(index):
    old, new, newest_draft = asset(1, "Alpha"), asset(2, "Beta"), asset(3, "Gamma", status="draft")
    other, region = asset(4, "Delta", region="EMEA"), asset(5, "Epsilon", region="EMEA")
    # Group 11: the oldest copy matches best (the word in its title), the newest published one weakly;
    # a newer copy in a draft deck is not the one shown.
    index.update_assets([
        (old, [copy_of(11, old, "Payback period", "payback payback in nine months", 11, 1),
               copy_of(12, old, "Agenda", "today", None, 1)]),
        (new, [copy_of(21, new, "Summary", "payback in nine months", 11, 5)]),
        (newest_draft, [copy_of(31, newest_draft, "Summary", "payback in nine months", 11, 9)]),
    ])
    # Another commit (another segment): a slide of its own that matches between the two copies.
    index.update_assets([(other, [copy_of(41, other, "Costs", "payback payback payback with savings", None, 2)]),
                         (region, [copy_of(51, region, "Costs", "savings only", None, 2)])])

    staff = index.search_pages("payback", include_hidden=True)
    assert shown(staff) == [(21, [11, 31]), (41, [])]
    assert staff.total == 2  # groups, not copies
    assert index.search_pages("payback nine", include_hidden=True).total == 1
    # Only copies that match count: here the group's one match is shown, old as it is.
    assert shown(index.search_pages("payback period", include_hidden=True)) == [(11, [])]
    # The group's rank is its best copy's, whatever the copy shown.
    best = index.search_pages("payback", include_hidden=True).hits[0].score
    assert best > index.search_pages("payback", include_hidden=True).hits[1].score
    # Reps never see the draft's copy, in the hit or among the others.
    assert shown(index.search_pages("payback")) == [(21, [11]), (41, [])]


def test_a_published_copy_is_shown_before_a_newer_retired_or_expired_one(index):
    kept, retired = asset(1, "Kept"), asset(2, "Retired", status="retired")
    expired = asset(3, "Expired", expires_on=date.today() - timedelta(days=1))
    index.update_assets([(kept, [copy_of(10, kept, "Tiers", "tiers", 10, 1)]),
                         (retired, [copy_of(20, retired, "Tiers", "tiers", 10, 7)]),
                         (expired, [copy_of(30, expired, "Tiers", "tiers", 10, 8)])])
    assert shown(index.search_pages("tiers", include_hidden=True)) == [(10, [30, 20])]
    # On the same version day, the newest slide (the highest id) wins.
    twin = asset(4, "Twin")
    index.update_assets([(twin, [copy_of(40, twin, "Tiers", "tiers", 10, 1)])])
    assert shown(index.search_pages("tiers", include_hidden=True)) == [(40, [10, 30, 20])]


def test_facets_count_groups(index):
    na, na_too = asset(1, "One", region="NA", tags=["pricing"]), asset(2, "Two", region="NA", tags=["pricing"])
    other = asset(3, "Three", region="EMEA", tags=["pricing", "emea"])
    index.update_assets([(na, [copy_of(10, na, "Tiers", "tiers", 10, 1)]),
                         (na_too, [copy_of(20, na_too, "Tiers", "tiers", 10, 2)])])
    index.update_assets([(other, [copy_of(30, other, "Tiers", "tiers", 10, 3),
                                  copy_of(31, other, "Tiers again", "tiers", None, 3)])])
    results = index.search_pages("tiers")
    assert results.total == 2
    # Group 10 has copies in NA (twice) and EMEA: it counts once for each; the other slide once for EMEA.
    assert results.facets["region"] == {"EMEA": 2, "NA": 1}
    assert results.facets["content_type"] == {"deck": 2}
    assert results.facets["tag"] == {"emea": 2, "pricing": 2}
    filtered = index.search_pages("tiers", filters={"region": "NA"})
    assert filtered.total == 1 and filtered.facets["region"] == {"NA": 1}


def test_paging_walks_groups_in_one_order_without_repeats(index):
    # 30 groups of 1 to 4 copies with equal text (equal scores), spread over three segments.
    batches: list[list] = [[], [], []]
    page_id = 1
    for group in range(30):
        for n in range(1 + group % 4):
            doc = asset(page_id, f"Deck {page_id}")
            batches[(group + n) % 3].append((doc, [copy_of(page_id, doc, "Renewal", "renewal terms", 1000 + group,
                                                           group % 5)]))
            page_id += 1
    for batch in batches:
        index.update_assets(batch)
    everything = index.search_pages("renewal", per_page=100)
    assert everything.total == 30 and len(everything.hits) == 30
    walked = []
    for number in range(1, 8):
        results = index.search_pages("renewal", page=number, per_page=5)
        assert results.total == 30
        walked += [hit.page_id for hit in results.hits]
    assert walked == [hit.page_id for hit in everything.hits]
    by_page = {p.page_id: p.group_id for batch in batches for _, pages in batch for p in pages}
    assert sorted(by_page[pid] for pid in walked) == [1000 + n for n in range(30)]  # every group once
    for hit in everything.hits:
        assert {by_page[o] for o in hit.others} <= {by_page[hit.page_id]}
        assert len(hit.others) == (by_page[hit.page_id] - 1000) % 4


def test_browsing_without_words_shows_each_group_once(index):
    one, two = asset(1, "One"), asset(2, "Two")
    index.update_assets([(one, [copy_of(10, one, "Tiers", "tiers", 10, 1), copy_of(11, one, "Other", "x", None, 1)]),
                         (two, [copy_of(20, two, "Tiers", "tiers", 10, 2)])])
    results = index.search_pages("")
    assert results.total == 2
    assert sorted(shown(results)) == [(11, []), (20, [10])]
