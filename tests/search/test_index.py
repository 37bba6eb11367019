"""The search index on its own: queries, filters, facets, sorting, visibility,
suggestions, highlights, rebuild and recovery."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

import pytest

from search.documents import AssetDocument, PageDocument
from search.highlight import highlight
from search.index import SearchIndex
from search.schema import SCHEMA_VERSION


def asset(asset_id: int, title: str, text: str = "", **fields) -> AssetDocument:
    values = dict(asset_id=asset_id, title=title, description="", tags=[], content_type="deck", product=None,
                  stage=None, region=None, persona=None, owner="Morgan marketer@example.com", text=text,
                  status="published", expires_on=None, rating_average=None, usage_count=0,
                  updated_at=datetime(2026, 1, 1) + timedelta(days=asset_id))
    values.update(fields)
    return AssetDocument(**values)


def page(page_id: int, doc: AssetDocument, number: int, title: str, text: str = "", notes: str = "") -> PageDocument:
    return PageDocument(page_id=page_id, asset_id=doc.asset_id, number=number, title=title, text=text, notes=notes,
                        asset_title=doc.title, content_type=doc.content_type, product=doc.product, stage=doc.stage,
                        region=doc.region, persona=doc.persona, tags=doc.tags, status=doc.status,
                        expires_on=doc.expires_on, rating_average=doc.rating_average, usage_count=doc.usage_count,
                        updated_at=doc.updated_at)


CORPUS = [
    asset(1, "Pricing overview - Healthcare", "Per-bed pricing for hospitals and clinics", tags=["pricing", "healthcare"],
          product="Care", region="NA", stage="proposal", rating_average=4.5, usage_count=40),
    asset(2, "Security datasheet", "SOC 2 Type II, encryption at rest, single sign-on", tags=["security"],
          content_type="datasheet", product="Platform", region="EMEA", rating_average=3.0, usage_count=5),
    asset(3, "Healthcare case study", "How Mercy Regional priced onboarding for 14 hospitals", tags=["healthcare"],
          content_type="case_study", product="Care", region="NA", rating_average=2.0, usage_count=1),
    asset(4, "Retired pricing 2019", "old pricing for hospitals", status="retired", tags=["pricing"]),
    asset(5, "Expired price list", "pricing for hospitals, list prices", tags=["pricing"],
          expires_on=date.today() - timedelta(days=1), content_type="price_sheet"),
    asset(6, "Competitive battlecard", "Where we win on onboarding speed and pricing", tags=["competitive", "pricing"],
          content_type="battlecard", product="Care", region="EMEA", rating_average=5.0, usage_count=90),
]


@pytest.fixture
def index(tmp_path) -> SearchIndex:
    ix = SearchIndex(str(tmp_path / "index"), lock_timeout=5)
    assert ix.ensure() is True  # new: the caller must fill it
    pages = {
        1: [page(11, CORPUS[0], 1, "Pricing tiers", "Essentials, Professional, Enterprise", "Mention the bed count"),
            page(12, CORPUS[0], 2, "Return on investment", "Payback in nine months")],
        4: [page(41, CORPUS[3], 1, "Old tiers", "pricing 2019 for hospitals")],
    }
    ix.update_assets([(doc, pages.get(doc.asset_id, [])) for doc in CORPUS])
    yield ix
    ix.close()


def ids(results) -> list[int]:
    return [hit.asset_id for hit in results.hits]


def test_stemming_and_case(index):
    assert 1 in ids(index.search_assets("PRICES hospital"))
    assert 3 in ids(index.search_assets("priced"))


def test_plain_words_must_all_match_but_widen_when_nothing_does(index):
    assert ids(index.search_assets("pricing healthcare")) == [1, 3]  # 3 says "priced"
    widened = ids(index.search_assets("encryption hospitals"))
    assert set(widened) == {1, 2, 3}


def test_phrase_field_prefix_and_boolean(index):
    assert ids(index.search_assets('"single sign-on"')) == [2]
    assert ids(index.search_assets('"sign-on single"')) == []
    assert ids(index.search_assets("title:security")) == [2]
    assert set(ids(index.search_assets("tag:healthcare"))) == {1, 3}
    assert set(ids(index.search_assets("type:battlecard"))) == {6}
    assert set(ids(index.search_assets("onboard*"))) == {3, 6}
    assert set(ids(index.search_assets("onboarding OR encryption"))) == {2, 3, 6}
    assert set(ids(index.search_assets("pricing NOT healthcare"))) == {6}
    assert set(ids(index.search_assets("(hospitals AND onboarding) OR soc"))) == {2, 3}


@pytest.mark.parametrize("text", [
    '"unbalanced', "((", "))", "title:", "AND", "OR", "NOT", "*", "pric**", "title:(", 'tag:"', "\x00\x01",
    "a" * 5000, "Ünïcödé ∑ 漢字", "NOT NOT NOT", "field:value:other", "[1 TO", "^2", "~", "{}", "pricing^",
])
def test_malformed_queries_never_raise(index, text):
    results = index.search_assets(text)
    assert results.total >= 0
    index.search_pages(text)


def test_filters_and_facet_counts(index):
    results = index.search_assets("", filters={"product": "Care"})
    assert set(ids(results)) == {1, 3, 6}
    assert results.facets["content_type"] == {"battlecard": 1, "case_study": 1, "deck": 1}
    assert results.facets["region"] == {"NA": 2, "EMEA": 1}
    assert results.facets["tag"] == {"healthcare": 2, "pricing": 2, "competitive": 1}
    narrowed = index.search_assets("pricing", filters={"product": "Care", "tag": "healthcare", "region": "NA"})
    assert set(ids(narrowed)) == {1, 3}
    assert ids(index.search_assets("pricing", filters={"content_type": "deck", "tag": "healthcare"})) == [1]


def test_sorting(index):
    assert ids(index.search_assets("", sort="rating")) == [6, 1, 2, 3]
    assert ids(index.search_assets("", sort="usage")) == [6, 1, 2, 3]
    assert ids(index.search_assets("", sort="newest")) == [6, 3, 2, 1]


def test_relevance_blends_rating_and_usage(index):
    # Both match "pricing" once in text; the much-used, top-rated battlecard leads
    # only if text relevance is close; the pricing deck's title match keeps it first.
    ranked = ids(index.search_assets("pricing"))
    assert ranked[0] == 1 and ranked.index(6) < len(ranked)


def test_pagination_and_totals(index):
    first = index.search_assets("", per_page=2, page=1, sort="newest")
    second = index.search_assets("", per_page=2, page=2, sort="newest")
    assert first.total == second.total == 4
    assert ids(first) == [6, 3] and ids(second) == [2, 1]


def test_visibility_of_retired_and_expired(index):
    visible = set(ids(index.search_assets("pricing hospitals")))
    assert 4 not in visible and 5 not in visible
    everything = set(ids(index.search_assets("pricing hospitals", include_hidden=True)))
    assert {4, 5} <= everything
    assert [h.page_id for h in index.search_pages("tiers").hits] == [11]
    assert {h.page_id for h in index.search_pages("tiers", include_hidden=True).hits} == {11, 41}
    future = date.today() - timedelta(days=2)
    assert 5 in ids(index.search_assets("price list", today=future))


def test_page_search_finds_the_slide(index):
    hits = index.search_pages("payback")
    assert [(h.page_id, h.asset_id) for h in hits.hits] == [(12, 1)]
    assert index.search_pages("bed count").hits[0].page_id == 11  # speaker notes are searched
    assert index.search_pages("", filters={"product": "Care"}).total == 2


def test_suggestion_when_results_are_few(index):
    assert index.search_assets("secruity").suggestion == "security"
    assert index.search_assets("pricing").suggestion is None


def test_suggestions_come_only_from_items_the_searcher_may_see(index):
    retired = asset(20, "Zeppelin rollout", "zeppelin hangar checklist", status="retired")
    expired = asset(21, "Quokka pilot", "quokka pilot notes", expires_on=date(2020, 1, 1))
    index.update_assets([(retired, [page(201, retired, 1, "Zeppelin hangar", "zeppelin hangar")]),
                         (expired, [page(211, expired, 1, "Quokka pilot", "quokka pilot")])])
    for typo in ("zeppelim", "quokla"):
        assert index.search_assets(typo).suggestion is None  # a rep learns nothing from hidden items
        assert index.search_pages(typo).suggestion is None
    assert index.search_assets("zeppelim", include_hidden=True).suggestion == "zeppelin"  # staff do
    assert index.search_pages("quokla", include_hidden=True).suggestion == "quokka"
    assert index.search_assets("secruity").suggestion == "security"  # visible words still suggested


def test_more_like_this(index):
    similar = index.more_like_this(1)
    assert similar and 1 not in similar and 4 not in similar and 5 not in similar


def test_updates_replace_pages_and_delete(index):
    changed = asset(1, "Pricing overview - Healthcare 2027", "new per-seat pricing", tags=["pricing"])
    index.update_asset(changed, [page(13, changed, 1, "Per-seat pricing")])
    assert [h.page_id for h in index.search_pages("tiers").hits] == []
    assert [h.page_id for h in index.search_pages("per-seat").hits] == [13]
    index.update_asset(asset(1, "Renamed", "x"), None)  # metadata only: pages stay
    assert [h.page_id for h in index.search_pages("per-seat").hits] == [13]
    index.delete_asset(1)
    assert 1 not in ids(index.search_assets("", include_hidden=True))
    assert index.search_pages("per-seat").total == 0


def test_check_reports_missing_stale_extra(index):
    expected = {doc.asset_id: doc.updated_at for doc in CORPUS if doc.asset_id != 6}
    expected[2] = expected[2] + timedelta(hours=1)
    expected[99] = datetime(2026, 1, 1)
    report = index.check(expected)
    assert (report.missing, report.stale, report.extra) == ([99], [2], [6])


def test_rebuild_swaps_in_a_new_generation(index):
    progress = []
    count = index.rebuild(iter([[(CORPUS[1], [])], [(CORPUS[5], [])]]), total=2, on_progress=progress.append)
    assert count == 2 and progress == [1, 1]
    assert set(ids(index.search_assets("", include_hidden=True))) == {2, 6}
    generations = [d for d in os.listdir(index.directory) if d.startswith("gen-")]
    assert len(generations) == 1


def test_schema_mismatch_and_corruption_recreate(tmp_path):
    ix = SearchIndex(str(tmp_path / "ix"))
    ix.ensure()
    ix.update_assets([(CORPUS[0], [])])
    assert ix.ensure() is False
    generation = os.path.join(ix.directory, open(os.path.join(ix.directory, "CURRENT")).read())
    with open(os.path.join(generation, "SCHEMA_VERSION"), "w") as handle:
        handle.write(SCHEMA_VERSION + "-old")
    assert SearchIndex(str(tmp_path / "ix")).ensure() is True
    fresh = SearchIndex(str(tmp_path / "ix"))
    assert fresh.doc_counts() == {"assets": 0, "pages": 0}
    generation = os.path.join(fresh.directory, open(os.path.join(fresh.directory, "CURRENT")).read())
    for name in os.listdir(generation):
        if name.endswith(".toc"):
            with open(os.path.join(generation, name), "wb") as handle:
                handle.write(b"garbage")
    assert SearchIndex(str(tmp_path / "ix")).ensure() is True
    (tmp_path / "gone").mkdir()
    assert SearchIndex(str(tmp_path / "gone")).ensure() is True


def test_highlight_is_stem_aware_and_escaped():
    snippet = highlight("We <script>alert('x')</script> priced per bed; pricing for hospitals.", ["price", "hospit"])
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet
    assert "<mark>priced</mark>" in snippet and "<mark>pricing</mark>" in snippet and "<mark>hospitals</mark>" in snippet
    assert highlight("nothing to see", ["price"]) is None
    long_text = "filler " * 200 + "the pricing clause" + " filler" * 200
    snippet = highlight(long_text, ["price"], max_chars=80)
    assert "<mark>pricing</mark>" in snippet and len(snippet) < 140
    assert "<mark>pricing</mark>" in highlight("pricing and prices", ["pric*"])


def test_facets_and_total_count_the_whole_result_not_the_page(index):
    results = index.search_assets("pricing", per_page=1, include_hidden=True)
    assert len(results.hits) == 1 and results.total == 5  # 1, 3 (priced), 4, 5, 6
    assert results.facets["tag"] == {"pricing": 4, "healthcare": 2, "competitive": 1}
    assert results.facets["content_type"] == {"deck": 2, "battlecard": 1, "case_study": 1, "price_sheet": 1}
    assert sum(results.facets["content_type"].values()) == results.total
    second = index.search_assets("pricing", per_page=1, page=2, include_hidden=True)
    assert second.facets == results.facets and second.hits != results.hits


def test_sorting_respects_filters_and_pages_have_their_own_facets(index):
    assert ids(index.search_assets("", filters={"region": "EMEA"}, sort="rating")) == [6, 2]
    pages = index.search_pages("", include_hidden=True)
    assert pages.total == 3 and pages.facets["tag"] == {"pricing": 3, "healthcare": 2}


def test_a_long_lived_reader_sees_other_writers_commits_once(tmp_path):
    directory = str(tmp_path / "ix")
    reader, writer = SearchIndex(directory), SearchIndex(directory)
    reader.ensure()
    writer.update_assets([(doc, []) for doc in CORPUS])
    assert reader.search_assets("", include_hidden=True).total == 6
    for round_ in range(15):  # enough commits for Whoosh to merge segments
        writer.update_asset(asset(1, f"Pricing overview round {round_}", "pricing"), [])
        found = reader.search_assets("pricing overview", include_hidden=True)
        assert ids(found) == [1], round_
        assert reader.search_assets("", include_hidden=True).total == 6
    writer.delete_asset(2)
    assert 2 not in ids(reader.search_assets("", include_hidden=True))
    assert reader.doc_counts()["assets"] == 5


def test_long_phrases_need_their_words_in_one_run(index):
    index.update_assets([
        (asset(20, "Proof", "the proof of business value for the board"), []),
        (asset(21, "Scattered", "proof of business; and business value later"), []),
    ])
    # Both hold the pairs "proof busi" and "busi valu"; only one holds the whole run.
    assert ids(index.search_assets('"proof of business value"')) == [20]
    assert set(ids(index.search_assets('"business value"'))) == {20, 21}
    assert ids(index.search_assets('title:"business value"')) == []
    assert ids(index.search_assets('tag:"pricing healthcare"')) == []  # no such tag, and no error


def test_phrase_results_rank_by_their_words_and_respect_filters(index):
    index.update_assets([
        (asset(30, "Encryption at rest", "encryption at rest, encryption everywhere", region="APAC"), []),
        (asset(31, "Misc", "we also offer encryption at rest", region="APAC"), []),
        (asset(32, "Other", "encryption at rest", region="NA"), []),
    ])
    assert ids(index.search_assets('"encryption at rest"', filters={"region": "APAC"})) == [30, 31]
    results = index.search_assets('"encryption at rest"')
    assert results.total == 4 and ids(results)[0] == 30  # asset 2 mentions it too


def test_deleted_and_replaced_documents_never_count(index):
    for round_ in range(3):  # each update deletes the old document in an older segment
        index.update_asset(asset(6, f"Competitive battlecard v{round_}", "pricing", tags=["competitive"],
                                 content_type="battlecard"), None)
    results = index.search_assets("pricing", include_hidden=True)
    assert results.total == 5 and ids(results).count(6) == 1
    assert results.facets["content_type"]["battlecard"] == 1
    assert results.facets["tag"]["competitive"] == 1


def test_scores_follow_bm25_term_frequency_and_title_boost(index):
    index.update_assets([
        (asset(40, "Zebra notes", "quokka"), []),
        (asset(41, "Notes", "quokka quokka quokka"), []),
        (asset(42, "Quokka", "nothing else"), []),
    ])
    ranked = index.search_assets("quokka")
    assert ids(ranked) == [42, 41, 40]  # the title counts most, then how often the body says it
    assert ranked.hits[0].score > ranked.hits[1].score > ranked.hits[2].score > 0


def test_searchers_are_reused_across_threads_and_never_shared(index):
    import threading

    from search.index import ASSETS

    index.search_assets("pricing")
    [(_, idle)] = index.searchers._idle[ASSETS]
    other_thread = threading.Thread(target=lambda: index.search_assets("healthcare"))
    other_thread.start()
    other_thread.join()
    assert [searcher for _, searcher in index.searchers._idle[ASSETS]] == [idle]  # reused, not reopened

    with index.searchers.lend(ASSETS) as lent:
        assert lent is idle and index.searchers._idle[ASSETS] == []
        assert ids(index.search_assets("security")) == [2]  # served by a second searcher meanwhile
    assert len(index.searchers._idle[ASSETS]) == 2

    errors, results = [], []

    def search_many():
        try:
            for _ in range(30):
                results.append(ids(index.search_assets("pricing healthcare")))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=search_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(results) == 120 and all(found == [1, 3] for found in results)


def test_a_searcher_reopened_after_a_commit_keeps_the_unchanged_segments_and_sees_their_deletions(tmp_path):
    index = SearchIndex(str(tmp_path / "ix"))
    index.ensure()
    index.update_assets([(doc, []) for doc in CORPUS])
    with index.searchers.lend("assets") as searcher:
        before = [leaf for leaf, _ in searcher.reader().leaf_readers()]
    index.update_asset(asset(1, "Renamed deck", "pricing"), [])  # deletes asset 1 from the first segment
    with index.searchers.lend("assets") as searcher:
        after = [leaf for leaf, _ in searcher.reader().leaf_readers()]
    assert len(before) == 1 and len(after) == 2 and after[0] is before[0]  # read once, not opened again
    assert index.search_assets("overview", include_hidden=True).total == 0
    assert ids(index.search_assets("renamed", include_hidden=True)) == [1]
    assert index.search_assets("", include_hidden=True).total == 6
    index.close()
