"""Slide lineage's fingerprints on generated decks with a known truth: copied,
edited and recoloured slides are found as the same slide; unrelated slides on
the same template, and short slides with other words, are not. Thumbnails are
rendered by LibreOffice (once for the module), as at processing.

The corpus (tests/support/lineage_decks.py): 4 decks, 26 slides, 11 true pairs (copies as
they are, edits of one word, an edit of an edit, a bullet added, a restyled copy, two "Thank
you" slides); hard negatives are other slides on the same template, slides borrowing one
bullet of another, and "Questions?" next to "Thank you". Measured (printed with -s):
precision 1.00, recall 1.00 over pairs, both through the bucket index and all pairs; the
bounds asserted are 0.95 / 0.9."""

from __future__ import annotations

import pypdfium2
import pytest

from assets.fingerprints import (
    Print,
    bucket_keys,
    hamming,
    jaccard,
    minhash,
    phash,
    same_slide,
    shingles,
)
from assets.office import convert_to_pdf
from tests.support.lineage_decks import corpus, pair_scores
from tests.tooling import require_executable

MIN_PRECISION, MIN_RECALL = 0.95, 0.9


@pytest.fixture(scope="module")
def prints(tmp_path_factory):
    require_executable("soffice", "apt-get install -y libreoffice-impress-nogui")
    folder = tmp_path_factory.mktemp("lineage")
    paths, truth = corpus(str(folder))
    from pptx import Presentation

    found = {}
    for name, path in paths.items():
        pdf = pypdfium2.PdfDocument(convert_to_pdf(path, str(folder / name)))
        deck = Presentation(path)
        for number, (page, slide) in enumerate(zip(pdf, deck.slides, strict=True), start=1):
            png = str(folder / f"{name}-{number}.png")
            page.render(scale=320 / page.get_width()).to_pil().save(png)
            text = "\n".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
            found[(name, number)] = Print(phash(png), minhash(text), text)
        pdf.close()
    return found, truth


def _group(prints: dict, *, all_pairs: bool) -> dict:
    keys = sorted(prints)
    parent = {k: k for k in keys}

    def find(k):
        while parent[k] != k:
            k = parent[k]
        return k

    if all_pairs:
        pairs = [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]]
    else:
        buckets: dict[int, list] = {}
        for k in keys:
            for key in bucket_keys(prints[k].phash, prints[k].minhash):
                buckets.setdefault(key, []).append(k)
        pairs = {(a, b) for members in buckets.values() for a in members for b in members if a < b}
    for a, b in pairs:
        if same_slide(prints[a], prints[b]):
            parent[find(b)] = find(a)
    return {k: find(k) for k in keys}


@pytest.mark.parametrize("all_pairs", [False, True], ids=["bucket index", "all pairs"])
def test_grouping_precision_and_recall(prints, all_pairs):
    found, truth = prints
    precision, recall, true_pairs, found_pairs = pair_scores(truth, _group(found, all_pairs=all_pairs))
    print(f"\nlineage ({'all pairs' if all_pairs else 'bucket index'}): precision {precision:.2f}, "
          f"recall {recall:.2f} ({true_pairs} true pairs, {found_pairs} found)")
    assert true_pairs >= 8  # the corpus has copies to find
    assert precision >= MIN_PRECISION and recall >= MIN_RECALL


def test_the_signals_separate_copies_from_look_alikes(prints):
    found, _ = prints
    copy, edit, same_template = found[("beta", 1)], found[("beta", 3)], found[("beta", 5)]
    assert jaccard(found[("alpha", 1)].minhash, copy.minhash) == 1.0
    assert hamming(found[("alpha", 1)].phash, copy.phash) <= 2
    assert 0.5 <= jaccard(found[("alpha", 3)].minhash, edit.minhash) < 1.0
    assert jaccard(found[("alpha", 1)].minhash, same_template.minhash) < 0.2
    assert not same_slide(found[("alpha", 6)], found[("beta", 7)])  # "Thank you" is not "Questions?"
    assert same_slide(found[("alpha", 6)], found[("gamma", 4)])  # ... but is another "Thank you"


def test_minhash_estimates_jaccard():
    first = "one two three four five six seven eight nine ten eleven twelve"
    second = "one two three four five six seven eight nine ten eleven thirteen"
    truth = len(shingles(first) & shingles(second)) / len(shingles(first) | shingles(second))
    assert abs(jaccard(minhash(first), minhash(second)) - truth) < 0.15
    assert minhash("") is None and bucket_keys(None, None) == []
    assert len(bucket_keys("0123456789abcdef", minhash(first))) == 20


def test_short_text_needs_a_similar_look_too():
    text = "Step 1 Step 2 Step 3"
    same_look = Print("8f3a000000000000", minhash(text), text)
    other_look = Print("70c5ffffffffffff", minhash(text), text)
    assert same_slide(same_look, Print("8f3a000000000001", minhash(text), text))
    assert not same_slide(same_look, other_look)
    long_text = " ".join(f"point {n} of the pricing story" for n in range(6))
    assert same_slide(Print("8f3a000000000000", minhash(long_text), long_text),
                      Print("70c5ffffffffffff", minhash(long_text), long_text))  # restyled, same words
