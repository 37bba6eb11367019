"""The numpy matcher (search/matching.py) against Whoosh's own searcher.

On a generated library (a few hundred assets and their slides, a Zipf-like
vocabulary of a few thousand words, several facet values, several segments,
replaced and deleted documents), each query is run twice: through the portal's
matcher, and through whoosh.searching.Searcher.search with scoring.BM25F(B, K1)
as the portal sets them, the same filters, and groupedby facets. Hits, totals,
facet counts and BM25F scores must agree (scores within rel 1e-4).

Four differences are deliberate, and the Whoosh side is asked accordingly:
- Phrases. The title and body fields keep no positions; the documents holding
  a phrase are found through the word order kept in the fields' columns and
  ranked by the phrase's words. For Whoosh that is Require(And(the words'
  terms), the documents Whoosh's own Phrase finds in a reference index of the
  same documents whose fields keep positions). Which documents hold a phrase
  is also checked against the generated text.
- Prefixes. Every document a prefix matches scores the prefix's boost, as
  Whoosh's Prefix intends (constantscore=True). Whoosh 2.7.5 keeps that only
  when it preloads the expansions (more than two, on at most 5,000 documents);
  otherwise Searcher.postings reads weighting=None as "the default" and the
  expansions' BM25F scores are added up. The Whoosh side gets a
  ConstantScoreQuery (test_whoosh_scores_a_prefix_with_few_expansions_by_bm25f).
- NOT. A NOT clause only excludes; Whoosh 2.7.5 adds 1.0 to the score for each
  NOT clause inside an AND (test_whoosh_adds_one_for_each_not_clause), so the
  Whoosh side gets Require(the positive part, Not(the negative part)).
- Tags. A tag is a facet: a tag: term scores its boost where it matches, like
  the other facet fields (type:, product:, ...), which Whoosh does not score
  either. Whoosh would score tags with BM25F because the field is scorable,
  ranking an asset with fewer tags first. The Whoosh side gets a
  ConstantScoreQuery for every term outside schema.SCORED_FIELDS.
"""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import pytest
from whoosh import fields, scoring, sorting
from whoosh import index as whoosh_index
from whoosh import query as q

from search.documents import AssetDocument, PageDocument
from search.index import ASSETS, PAGES, SearchIndex
from search.matching import K1, B, facet_counts
from search.query import ASSET_FIELDS, PAGE_FIELDS, filter_terms, parse
from search.schema import ANALYZER, SCORED_FIELDS, SEQUENCED_FIELDS, SINGLE_FACETS

SEED = 20261201
ASSET_COUNT = 320
VOCABULARY = 3_000
TODAY = date(2026, 6, 1)
TAGS = ["pricing", "security", "healthcare", "retail", "competitive", "onboarding", "roi", "emea", "apac",
        "partner"]
FACET_VALUES = {
    "content_type": ["deck", "datasheet", "case_study", "battlecard", "price_sheet"],
    "product": ["Care", "Platform", "Insights", "Connect", None],
    "stage": ["discovery", "proposal", "negotiation", None],
    "region": ["NA", "EMEA", "APAC", None],
    "persona": ["cfo", "cio", "buyer", None],
}


def _vocabulary(rng: random.Random) -> list[str]:
    """Made-up words whose stems are all different, most frequent first."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    words, stems = [], set()
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        stem = [token.text for token in ANALYZER(word)]
        if len(stem) == 1 and stem[0] not in stems:
            stems.add(stem[0])
            words.append(word)
    return words


class Library:
    """The generated documents, as indexed (after replacements and deletions)."""

    def __init__(self):
        rng = random.Random(SEED)
        self.words = _vocabulary(rng)
        weights = [1 / (rank + 1) ** 1.07 for rank in range(VOCABULARY)]
        self.rng, self.weights = rng, weights
        self.assets: dict[int, AssetDocument] = {}
        self.pages: dict[int, list[PageDocument]] = {}
        self.batches = []
        ids = list(range(1, ASSET_COUNT + 1))
        for start in range(0, ASSET_COUNT, 80):  # one commit each: several segments
            self.batches.append([self._asset(asset_id) for asset_id in ids[start:start + 80]])
        earlier_pages = dict(self.pages)
        self.replaced = [self._asset(asset_id) for asset_id in rng.sample(ids, 30)]
        for doc, _ in self.replaced[15:]:  # replaced without their pages (see the index fixture): the earlier stay
            self.pages[doc.asset_id] = earlier_pages[doc.asset_id]
        self.deleted = rng.sample(ids, 12)
        for asset_id in self.deleted:
            del self.assets[asset_id]
            del self.pages[asset_id]

    def text(self, count: int) -> str:
        return " ".join(self.rng.choices(self.words, self.weights, k=count))

    def _asset(self, asset_id: int) -> tuple[AssetDocument, list[PageDocument]]:
        rng = self.rng
        facets = {name: rng.choice(values) for name, values in FACET_VALUES.items()}
        slides = [(self.text(rng.randint(1, 5)), self.text(rng.randint(5, 80)), self.text(rng.randint(0, 12)))
                  for _ in range(rng.randint(1, 3))]
        expires = rng.choice([None, None, None, TODAY - timedelta(days=3), TODAY + timedelta(days=30)])
        doc = AssetDocument(
            asset_id=asset_id, title=self.text(rng.randint(2, 7)), description=self.text(rng.randint(0, 15)),
            tags=rng.sample(TAGS, rng.randint(0, 3)), owner="Morgan marketer@example.com",
            text="\n".join(f"{title}\n{text}\n{notes}" for title, text, notes in slides),
            status="retired" if rng.random() < 0.1 else "published", expires_on=expires,
            rating_average=rng.choice([None, 1.0, 2.5, 3.75, 5.0]), usage_count=rng.randint(0, 500),
            updated_at=datetime(2026, 1, 1) + timedelta(minutes=asset_id), **facets)
        pages = [PageDocument(page_id=asset_id * 10 + n, asset_id=asset_id, number=n, title=title, text=text,
                              notes=notes, asset_title=doc.title, tags=doc.tags, status=doc.status,
                              expires_on=doc.expires_on, rating_average=doc.rating_average,
                              usage_count=doc.usage_count, updated_at=doc.updated_at, **facets)
                 for n, (title, text, notes) in enumerate(slides, start=1)]
        self.assets[asset_id], self.pages[asset_id] = doc, pages
        return doc, pages

    def word(self, rank: int) -> str:
        return self.words[rank]

    def run_of_words(self, length: int, nth: int) -> str:
        """`length` words in a row from the body of some asset."""
        doc = sorted(self.assets.values(), key=lambda d: d.asset_id)[nth]
        words = doc.text.split()
        start = len(words) // 3
        return " ".join(words[start:start + length])


@pytest.fixture(scope="module")
def library() -> Library:
    return Library()


@pytest.fixture(scope="module")
def index(library, tmp_path_factory):
    ix = SearchIndex(str(tmp_path_factory.mktemp("parity") / "index"))
    ix.ensure()
    for batch in library.batches:
        ix.update_assets(batch)
    ix.update_assets(library.replaced[:15])
    ix.update_assets([(doc, None) for doc, _ in library.replaced[15:]])  # metadata only: pages stay
    for asset_id in library.deleted:
        ix.delete_asset(asset_id)
    # A merge swapped in between the two sides of a comparison would change the statistics
    # (merged segments drop deleted documents, which BM25F counts): let them finish first.
    assert ix.wait_for_merges(timeout=300), "the merges did not finish"
    ix.reference = _reference_index(library, tmp_path_factory.mktemp("reference"))
    yield ix
    ix.close()


def _reference_index(library: Library, directory) -> dict:
    """The same documents in plain Whoosh indexes whose title and body keep
    positions (the same analyzer), for Whoosh's own Phrase queries."""
    from search.documents import asset_fields, page_fields

    indexes = {}
    for indexname, id_field, documents, to_fields in (
            (ASSETS, "asset_id", list(library.assets.values()), asset_fields),
            (PAGES, "page_id", [page for pages in library.pages.values() for page in pages], page_fields)):
        schema = fields.Schema(**{id_field: fields.ID(stored=True)},
                               **{name: fields.TEXT(analyzer=ANALYZER, phrase=True) for name in SEQUENCED_FIELDS})
        ix = whoosh_index.create_in(str(directory), schema, indexname=indexname)
        with ix.writer() as writer:
            for doc in documents:
                values = to_fields(doc)
                writer.add_document(**{name: values[name] for name in (id_field, *SEQUENCED_FIELDS)})
        indexes[indexname] = ix
    return indexes


# --- the Whoosh side --------------------------------------------------------------


def whoosh_query(query: q.Query, phrase_ids) -> q.Query:
    """The query as Whoosh must be asked it to mean what the portal's matcher does;
    phrase_ids(phrase) -> the ids of the documents where Whoosh's Phrase finds it."""
    if isinstance(query, q.Phrase) and len(query.words) > 1 and query.fieldname in SEQUENCED_FIELDS:
        in_a_row = q.Or([q.Term(name, value) for name, value in phrase_ids(query)]) or q.NullQuery
        words = q.And([q.Term(query.fieldname, word, boost=query.boost) for word in query.words])
        return q.Require(words, in_a_row)
    if isinstance(query, q.Prefix):
        return q.ConstantScoreQuery(q.Prefix(query.fieldname, query.text), score=query.boost)
    if isinstance(query, q.Term) and query.fieldname not in SCORED_FIELDS:
        return q.ConstantScoreQuery(q.Term(query.fieldname, query.text), score=query.boost)
    if isinstance(query, q.And) and any(isinstance(child, q.Not) for child in query.children()):
        positive = [whoosh_query(c, phrase_ids) for c in query.children() if not isinstance(c, q.Not)]
        negative = [whoosh_query(c.query, phrase_ids) for c in query.children() if isinstance(c, q.Not)]
        return q.Require(q.And(positive, boost=query.boost), q.Not(q.Or(negative)))
    if query.is_leaf():
        return query
    return query.apply(lambda child: whoosh_query(child, phrase_ids))


def _phrase_ids(index: SearchIndex, indexname: str):
    id_field = "asset_id" if indexname == ASSETS else "page_id"

    def phrase_ids(phrase: q.Phrase) -> list[tuple[str, str]]:
        with index.reference[indexname].searcher() as searcher:
            found = searcher.search(q.Phrase(phrase.fieldname, phrase.words), limit=None)
            return [(id_field, hit[id_field]) for hit in found]

    return phrase_ids


def whoosh_filter(filters: dict[str, str] | None, include_hidden: bool) -> q.Query | None:
    terms = [q.Term(name, value) for name, value in filter_terms(filters)]
    if not include_hidden:
        terms += [q.Term("status", "published"), q.NumericRange("expires", TODAY.toordinal(), None)]
    return q.And(terms) if terms else None


GROUPS = {**{name: sorting.FieldFacet(name) for name in SINGLE_FACETS},
          "tag": sorting.FieldFacet("tags", allow_overlap=True)}


def whoosh_search(index: SearchIndex, indexname: str, query: q.Query, filters, include_hidden: bool):
    """({id: score}, total, facets) from Whoosh's own searcher."""
    id_field = "asset_id" if indexname == ASSETS else "page_id"
    with index.generations.open(indexname).searcher(weighting=scoring.BM25F(B=B, K1=K1)) as searcher:
        results = searcher.search(whoosh_query(query, _phrase_ids(index, indexname)), limit=None, filter=whoosh_filter(filters, include_hidden),
                                  groupedby=GROUPS, maptype=sorting.Count)
        scores = {int(hit[id_field]): hit.score for hit in results}
        facets = {name: {value: count for value, count in results.groups(name).items() if value}
                  for name in GROUPS}
        return scores, len(results), facets


# --- the portal side ----------------------------------------------------------------


def portal_search(index: SearchIndex, indexname: str, query: q.Query, filters, include_hidden: bool):
    """({id: BM25F score}, total, facets) from the portal's matcher, before rating and usage nudge the order."""
    id_field = "asset_id" if indexname == ASSETS else "page_id"
    visible_on = None if include_hidden else TODAY.toordinal()
    with index.searchers.lend(indexname) as searcher:
        matches = index.queries.matches(searcher, query, filter_terms(filters), visible_on, scored=True)
        scores = {}
        for match in matches:
            for local in match.mask.nonzero()[0].tolist():
                stored = searcher.stored_fields(match.offset + local)
                scores[int(stored[id_field])] = float(match.scores[local]) if match.scores is not None else 0.0
    return scores, len(scores), facet_counts(matches)


def assert_same(index: SearchIndex, indexname: str, query: q.Query, filters=None, include_hidden=True,
                scored=True) -> dict[int, float]:
    mine, my_total, my_facets = portal_search(index, indexname, query, filters, include_hidden)
    theirs, their_total, their_facets = whoosh_search(index, indexname, query, filters, include_hidden)
    assert my_total == their_total
    assert sorted(mine) == sorted(theirs)
    if scored:
        assert mine == pytest.approx(theirs, rel=1e-4)
    assert my_facets == their_facets
    return mine


# --- the cases ------------------------------------------------------------------------


# What people type, made of the library's words (ranks 0, 30, 45: common; 400:
# a few documents; 2,000: one or two).
CASES = {
    "common word": lambda lib: lib.word(0),
    "middling word": lambda lib: lib.word(30),
    "rare word": lambda lib: lib.word(400),
    "rarest word": lambda lib: lib.word(2_000),
    "two words, all of them": lambda lib: f"{lib.word(30)} {lib.word(45)}",
    "three words, all of them": lambda lib: f"{lib.word(0)} {lib.word(30)} {lib.word(45)}",
    "OR": lambda lib: f"{lib.word(30)} OR {lib.word(400)}",
    "NOT": lambda lib: f"{lib.word(0)} NOT {lib.word(30)}",
    "AND inside OR": lambda lib: f"({lib.word(0)} AND {lib.word(30)}) OR {lib.word(400)}",
    "NOT inside OR": lambda lib: f"({lib.word(30)} NOT {lib.word(0)}) OR {lib.word(400)}",
    "two-word phrase": lambda lib: f'"{lib.run_of_words(2, 7)}"',
    "three-word phrase": lambda lib: f'"{lib.run_of_words(3, 11)}"',
    "four-word phrase": lambda lib: f'"{lib.run_of_words(4, 19)}"',
    "phrase of common words": lambda lib: f'"{lib.word(0)} {lib.word(1)} {lib.word(2)}"',
    "short prefix": lambda lib: f"{lib.word(3)[:2]}*",
    "prefix": lambda lib: f"{lib.word(12)[:3]}*",
    "word and prefix": lambda lib: f"{lib.word(30)} {lib.word(5)[:3]}*",
    "title field": lambda lib: f"title:{lib.word(30)}",
    "tag field": lambda lib: "tag:security",
    "word and facet fields": lambda lib: f"{lib.word(0)} tag:pricing type:deck",
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("indexname", [ASSETS, PAGES])
def test_matches_and_scores_agree_with_whoosh(library, index, indexname, case):
    fields = ASSET_FIELDS if indexname == ASSETS else PAGE_FIELDS
    with index.searchers.lend(indexname) as searcher:
        query = parse(CASES[case](library), searcher.schema, fields).query
    assert assert_same(index, indexname, query), "a case that matches nothing proves little"


@pytest.mark.parametrize("filters", [{"product": "Care"}, {"tag": "security"}, {"region": "EMEA", "tag": "roi"}])
@pytest.mark.parametrize("include_hidden", [True, False])
def test_facet_filters_and_visibility_agree_with_whoosh(library, index, filters, include_hidden):
    with index.searchers.lend(ASSETS) as searcher:
        for text in (library.word(0), f"{library.word(30)} OR {library.word(45)}"):
            query = parse(text, searcher.schema, ASSET_FIELDS).query
            assert assert_same(index, ASSETS, query, filters, include_hidden)
    assert assert_same(index, ASSETS, q.Every(), filters, include_hidden, scored=False)  # browsing


def test_require_scores_by_its_first_part_like_whoosh(library, index):
    query = q.Require(q.Term("body", stem(library.word(0))), q.Term("body", stem(library.word(30))))
    assert assert_same(index, ASSETS, query)


def stem(word: str) -> str:
    return next(token.text for token in ANALYZER(word))


def _stems(text: str) -> list[str]:
    return [token.text for token in ANALYZER(text)]


PHRASES = {
    "two words from a document": lambda lib: lib.run_of_words(2, 7),
    "three words from a document": lambda lib: lib.run_of_words(3, 11),
    "four words from a document": lambda lib: lib.run_of_words(4, 19),
    # Common words: many documents hold both pairs, few hold the three in a row.
    "three common words": lambda lib: f"{lib.word(0)} {lib.word(1)} {lib.word(2)}",
}


@pytest.mark.parametrize("case", list(PHRASES))
def test_phrases_find_exactly_the_documents_that_hold_the_words_in_a_row(library, index, case):
    phrase = _stems(PHRASES[case](library))
    pairs = [phrase[i:i + 2] for i in range(len(phrase) - 1)]
    in_a_row, pairs_apart = set(), set()
    for doc in library.assets.values():
        body = "\n".join([doc.description or "", " ".join(doc.tags), doc.owner or "", doc.text])
        for field_text in (doc.title, body):
            stems = _stems(field_text)
            runs = [stems[i:i + len(phrase)] for i in range(len(stems))]
            if phrase in runs:
                in_a_row.add(doc.asset_id)
            elif all(pair in [stems[i:i + 2] for i in range(len(stems))] for pair in pairs):
                pairs_apart.add(doc.asset_id)
    found = index.search_assets(f'"{" ".join(phrase)}"', include_hidden=True, per_page=200)
    assert found.total == len(in_a_row) > 0
    assert {hit.asset_id for hit in found.hits} == in_a_row
    if case == "three common words":
        assert pairs_apart - in_a_row, "no document to tell the run from its pairs"


def test_results_are_whoosh_scores_nudged_by_rating_and_usage(library, index):
    text = f"{library.word(30)} OR {library.word(400)}"
    with index.searchers.lend(ASSETS) as searcher:
        query = parse(text, searcher.schema, ASSET_FIELDS).query
    theirs, total, facets = whoosh_search(index, ASSETS, query, None, include_hidden=True)
    results = index.search_assets(text, include_hidden=True, per_page=200)
    assert results.total == total and results.facets == facets
    assert {hit.asset_id for hit in results.hits} == set(theirs)
    for hit in results.hits:
        doc = library.assets[hit.asset_id]
        rating = round((doc.rating_average or 0) * 100) / 100
        expected = theirs[hit.asset_id] * (1 + 0.04 * rating + 0.05 * math.log1p(doc.usage_count))
        assert hit.score == pytest.approx(expected, rel=1e-4, abs=1e-4)
    assert [hit.score for hit in results.hits] == sorted((hit.score for hit in results.hits), reverse=True)


def _whoosh_scores(index: SearchIndex, query: q.Query) -> dict[int, float]:
    with index.generations.open(ASSETS).searcher(weighting=scoring.BM25F(B=B, K1=K1)) as searcher:
        return {int(hit["asset_id"]): hit.score for hit in searcher.search(query, limit=None)}


def test_whoosh_scores_a_prefix_with_few_expansions_by_bm25f(library, index):
    """Why the Whoosh side is asked for a ConstantScoreQuery: Whoosh 2.7.5 keeps
    a prefix's constant score only when it preloads more than two expansions on
    an index of at most 5,000 documents; otherwise it adds up the expansions'
    BM25F scores, so one prefix would rank differently as the library grows."""
    with index.generations.open(ASSETS).searcher() as searcher:
        reader = searcher.reader()
        prefix = next(stem(library.word(rank)) for rank in range(20, 400)
                      if len(list(reader.expand_prefix("body", stem(library.word(rank))))) <= 2)
    theirs = _whoosh_scores(index, q.Prefix("body", prefix))
    assert len(set(theirs.values())) > 1
    mine, _, _ = portal_search(index, ASSETS, q.Prefix("body", prefix), None, include_hidden=True)
    assert sorted(mine) == sorted(theirs) and set(mine.values()) == {1.0}


def test_whoosh_adds_one_for_each_not_clause(library, index):
    """Why the Whoosh side is asked Require(positive, Not(negative)) for NOT:
    Whoosh 2.7.5's Not matcher scores 1.0 for every document it lets through,
    so And([a, Not(b)]) scores a + 1. In the portal a NOT only excludes."""
    a, b = q.Term("body", stem(library.word(0))), q.Term("body", stem(library.word(30)))
    plain, with_not = _whoosh_scores(index, a), _whoosh_scores(index, q.And([a, q.Not(b)]))
    assert with_not and with_not == pytest.approx({hit: plain[hit] + 1.0 for hit in with_not}, rel=1e-6)
    mine, _, _ = portal_search(index, ASSETS, q.And([a, q.Not(b)]), None, include_hidden=True)
    assert mine == pytest.approx({hit: plain[hit] for hit in with_not}, rel=1e-4)
