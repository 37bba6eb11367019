"""'Did you mean': when a plain query finds few results, each word the index
does not know is replaced by the closest word it knows (edit distance 2 at most)
that occurs in an item the person searching may see: a rep never learns a word
from a retired or expired slide.

Words come from asset titles and from the slides' text (the page index keeps
the unstemmed word lists; a second list over the large asset bodies would
double indexing time).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager

from search.query import has_operators
from search.schema import ANALYZER, PAGES

FEW_RESULTS = 3
CANDIDATES = 8  # closest words tried per speller, until one is in a visible item

# visible(searcher, fieldname, stemmed word) -> whether an item the person may see has it
Visible = Callable[[object, str, str], bool]


def suggest(searcher, text: str, total: int, fields: dict,
            lend: Callable[[str], AbstractContextManager], visible: Visible) -> str | None:
    """A corrected query for `text` searched on `searcher`, or None; `lend`
    lends a searcher of another index (the asset tab borrows the page index's words)."""
    if total >= FEW_RESULTS or not text or has_operators(text):
        return None
    if "page_id" in searcher.schema:
        return _corrected(text, searcher.reader(), fields, [(searcher, "title"), (searcher, "body")], visible)
    with lend(PAGES) as pages:
        return _corrected(text, searcher.reader(), fields,
                          [(searcher, "title"), (pages, "body"), (pages, "title")], visible)


def _closest_visible(word: str, speller, name: str, visible: Visible) -> str | None:
    try:
        found = speller.corrector(name).suggest(word.lower(), limit=CANDIDATES, maxdist=2, prefix=1)
    except Exception:  # spelling is a nicety; never fail a search for it
        return None
    for candidate in found:
        stem = next((t.text for t in ANALYZER(candidate)), None)
        if stem is not None and visible(speller, name, stem):
            return candidate
    return None


def _corrected(text: str, reader, fields: dict, spellers, visible: Visible) -> str | None:
    """Each word the index does not know replaced by the closest visible word a
    speller knows; None when nothing changed."""
    corrected, changed = [], False
    for word in re.findall(r"\w+", text):
        stem = next((t.text for t in ANALYZER(word)), None)
        if stem is None or any((name, stem) in reader for name in fields):
            corrected.append(word)
            continue
        suggestion = next((found for speller, name in spellers
                           if (found := _closest_visible(word, speller, name, visible))), None)
        corrected.append(suggestion or word)
        changed = changed or suggestion is not None
    return " ".join(corrected) if changed else None
