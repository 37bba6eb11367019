"""'Did you mean': when a plain query finds few results, each word the index
does not know is replaced by the closest word it knows (edit distance 2 at most).

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


def suggest(searcher, text: str, total: int, fields: dict,
            lend: Callable[[str], AbstractContextManager]) -> str | None:
    """A corrected query for `text` searched on `searcher`, or None; `lend`
    lends a searcher of another index (the asset tab borrows the page index's words)."""
    if total >= FEW_RESULTS or not text or has_operators(text):
        return None
    if "page_id" in searcher.schema:
        return _corrected(text, searcher.reader(), fields, [(searcher, "title"), (searcher, "body")])
    with lend(PAGES) as pages:
        return _corrected(text, searcher.reader(), fields, [(searcher, "title"), (pages, "body"), (pages, "title")])


def _corrected(text: str, reader, fields: dict, spellers) -> str | None:
    """Each word the index does not know replaced by the closest word a speller
    knows; None when nothing changed."""
    corrected, changed = [], False
    for word in re.findall(r"\w+", text):
        stem = next((t.text for t in ANALYZER(word)), None)
        if stem is None or any((name, stem) in reader for name in fields):
            corrected.append(word)
            continue
        suggestion = None
        for speller, name in spellers:
            try:
                found = speller.corrector(name).suggest(word.lower(), limit=1, maxdist=2, prefix=1)
            except Exception:  # spelling is a nicety; never fail a search for it
                found = []
            if found:
                suggestion = found[0]
                break
        corrected.append(suggestion or word)
        changed = changed or suggestion is not None
    return " ".join(corrected) if changed else None
