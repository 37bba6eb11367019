"""Phrases through the word order kept in the text fields' columns
(search/sequences.py), on a library with a realistic vocabulary: many word
types, Zipf-distributed, so that most adjacent pairs of words are new."""

from __future__ import annotations

import functools
import random
from datetime import datetime

import numpy as np
import pytest

from search.documents import AssetDocument, PageDocument, asset_fields, page_fields
from search.index import ASSETS, PAGES, SearchIndex
from search.schema import ANALYZER
from search.sequences import IndexAnalysis, phrase_documents, word_hash
from search.whoosh_internals import bytes_column

SEED = 1414
WORDS = 20_000
ASSETS_COUNT = 240


def _vocabulary(rng: random.Random) -> list[str]:
    consonants, vowels = "bcdfghklmnprstvz", "aeiou"
    words, stems = [], set()
    while len(words) < WORDS:
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))
        stem = [token.text for token in ANALYZER(word)]
        if len(stem) == 1 and stem[0] not in stems:
            stems.add(stem[0])
            words.append(word)
    return words


class Library:
    def __init__(self):
        rng = random.Random(SEED)
        self.words = _vocabulary(rng)
        cumulative = np.cumsum([1 / (rank + 1) for rank in range(WORDS)]).tolist()
        self.text = lambda count: " ".join(rng.choices(self.words, cum_weights=cumulative, k=count))
        self.assets: dict[int, AssetDocument] = {}
        self.pages: dict[int, list[PageDocument]] = {}
        self.batches = []
        for start in range(1, ASSETS_COUNT + 1, 60):  # one commit each: several segments
            batch = []
            for asset_id in range(start, start + 60):
                slides = [(self.text(rng.randint(2, 6)), self.text(rng.randint(40, 120)), "") for _ in range(4)]
                doc = AssetDocument(
                    asset_id=asset_id, title=self.text(rng.randint(3, 7)), description=self.text(20), tags=[],
                    content_type="deck", product=None, stage=None, region=None, persona=None, owner="Morgan",
                    text="\n".join(f"{title}\n{text}" for title, text, _ in slides), status="published",
                    expires_on=None, rating_average=None, usage_count=0, updated_at=datetime(2026, 1, 1))
                pages = [PageDocument(page_id=asset_id * 10 + n, asset_id=asset_id, number=n, title=title, text=text,
                                      notes=notes, asset_title=doc.title, content_type="deck", product=None,
                                      stage=None, region=None, persona=None)
                         for n, (title, text, notes) in enumerate(slides, start=1)]
                self.assets[asset_id], self.pages[asset_id] = doc, pages
                batch.append((doc, pages))
            self.batches.append(batch)

    def holding(self, indexname: str, fieldname: str, stems: list[str]) -> set[int]:
        """The documents whose field holds the stems in a row, from the analysed text."""
        key = " ".join(stems)
        return {doc_id for doc_id, text in self._analysed(indexname, fieldname) if f" {key} " in text}

    @functools.cache  # noqa: B019 (one library per module)
    def _analysed(self, indexname: str, fieldname: str) -> list[tuple[int, str]]:
        if indexname == ASSETS:
            documents = [(doc.asset_id, asset_fields(doc)) for doc in self.assets.values()]
        else:
            documents = [(page.page_id, page_fields(page)) for pages in self.pages.values() for page in pages]
        return [(key, " " + " ".join(token.text for token in ANALYZER(values[fieldname])) + " ")
                for key, values in documents]


@pytest.fixture(scope="module")
def library() -> Library:
    return Library()


@pytest.fixture(scope="module")
def index(library, tmp_path_factory):
    ix = SearchIndex(str(tmp_path_factory.mktemp("phrases") / "index"))
    ix.ensure()
    for batch in library.batches:
        ix.update_assets(batch)
    yield ix
    ix.close()


def _stems(text: str) -> list[str]:
    return [token.text for token in ANALYZER(text)]


def _phrases(library: Library, rng: random.Random) -> list[list[str]]:
    """Runs of words taken from the documents (2 to 4 words, common and rare),
    the same words in another order, and runs of the most frequent words."""
    phrases = []
    for doc in rng.sample(list(library.assets.values()), 12):
        words = doc.text.split()
        for length in (2, 3, 4):
            start = rng.randrange(len(words) - length)
            phrases.append(words[start:start + length])
            phrases.append(list(reversed(words[start:start + length])))
    top = library.words[:6]
    phrases += [top[:2], top[1:3], top[:3], [top[0], top[0]], [top[2], top[4], top[5]]]
    return phrases


@pytest.mark.parametrize("indexname", [ASSETS, PAGES])
def test_phrases_find_exactly_the_documents_holding_the_words_in_a_row(library, index, indexname):
    rng = random.Random(SEED + (indexname == PAGES))
    id_field = "asset_id" if indexname == ASSETS else "page_id"
    search = index.search_assets if indexname == ASSETS else index.search_pages
    checked = 0
    for words in _phrases(library, rng):
        stems = _stems(" ".join(words))
        for fieldname in ("body", "title"):
            expected = library.holding(indexname, fieldname, stems)
            prefix = "title:" if fieldname == "title" else ""
            found = search(f'{prefix}"{" ".join(words)}"', include_hidden=True, per_page=200)
            if fieldname == "body":  # a phrase without a field is searched in the title too
                expected |= library.holding(indexname, "title", stems)
            assert found.total == len(expected), (fieldname, stems)
            hits = {getattr(hit, id_field) for hit in found.hits}
            assert hits == expected if len(expected) <= 200 else hits < expected, (fieldname, stems)
            checked += bool(expected)
    assert checked > 40  # most phrases were found somewhere


def test_a_phrase_never_runs_from_one_document_into_the_next(tmp_path):
    index = SearchIndex(str(tmp_path / "ix"))
    index.ensure()
    docs = [AssetDocument(asset_id=n, title=f"Deck {n}", description="", tags=[], content_type="deck", product=None,
                          stage=None, region=None, persona=None, owner="", text=text, status="published",
                          expires_on=None, rating_average=None, usage_count=0, updated_at=datetime(2026, 1, 1))
            for n, text in ((1, "alpha beta gamma"), (2, "delta epsilon"), (3, "gamma delta"))]
    index.update_assets([(doc, []) for doc in docs])
    assert index.search_assets('"gamma delta"', include_hidden=True).total == 1  # document 3 only
    assert [hit.asset_id for hit in index.search_assets('"gamma delta"', include_hidden=True).hits] == [3]
    assert index.search_assets('"beta gamma"', include_hidden=True).total == 1
    assert index.search_assets('"gamma alpha"', include_hidden=True).total == 0


def test_phrase_documents_scans_the_segment_or_only_the_candidates():
    words = [word_hash(w) for w in ["a1", "b2", "c3", "d4"]]
    a, b, c, d = words
    # Five documents: [a b c], [c a], [b], [a b], [d a b c d]
    docs = [[a, b, c], [c, a], [b], [a, b], [d, a, b, c, d]]
    stream = np.array([h for doc in docs for h in doc], dtype="<u4")
    offsets = np.concatenate([[0], np.cumsum([len(doc) for doc in docs])]).astype(np.int64)
    everything = np.arange(len(docs))
    for anchor in (0, 1):
        assert phrase_documents(stream, offsets, [a, b], everything, anchor).tolist() == [0, 3, 4]
    assert phrase_documents(stream, offsets, [a, b, c], everything, 2).tolist() == [0, 4]
    assert phrase_documents(stream, offsets, [c, a], everything).tolist() == [1]  # not [a b c] + [c a] across docs
    assert phrase_documents(stream, offsets, [a, b], np.array([3])).tolist() == [3]  # only its own words read
    assert phrase_documents(stream, offsets, [b, c], np.array([1, 2])).tolist() == []
    assert phrase_documents(stream, offsets, [a, b], np.array([], dtype=np.int64)).tolist() == []


def test_index_analysis_yields_the_analyzers_tokens():
    rng = random.Random(3)
    alphabet = "abcXYZ  .._-*'İıǅß漢1\n\t,;éÆ"
    texts = ["The proof of business value, e.g. v2.0 and U.S.A.; straße naïve café 3.14 pric* a an I",
             "Per-bed pricing for hospitals; SOC 2 Type II, single sign-on", "", "漢字 テスト ñandú ∑ 1,000 a.b.c. _x_"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(2000)]
    analysis = IndexAnalysis(ANALYZER)
    for text in texts:
        analysed = analysis(text)
        assert analysed.stems == [token.text for token in ANALYZER(text)], text
        assert analysed.words == [token.text for token in ANALYZER(text, no_morph=True)], text
        assert analysed.hashes == [word_hash(stem) for stem in analysed.stems]


def test_word_order_columns_read_in_bulk_match_whoosh(index):
    for indexname in (ASSETS, PAGES):
        with index.searchers.lend(indexname) as searcher:
            for sub, _ in searcher.leaf_searchers():
                reader = sub.reader()
                for fieldname in ("title", "body"):
                    stream, offsets = bytes_column(reader, fieldname, np.dtype("<u4"))
                    values = list(reader.column_reader(fieldname, translate=False))
                    assert len(offsets) == reader.doc_count_all() + 1
                    for docnum, value in enumerate(values):
                        assert stream[offsets[docnum]:offsets[docnum + 1]].tobytes() == value
