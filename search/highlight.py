"""Snippets with the matched words marked, computed from database text.

The index stores ids only; the words to mark come from the parsed query
(stemmed the same way as the index), so "pricing" marks "priced" too.
"""

from __future__ import annotations

from html import escape

from search.schema import ANALYZER


def _matches(token: str, terms: list[str]) -> bool:
    for term in terms:
        if term.endswith("*"):
            if token.startswith(term[:-1]):
                return True
        elif token == term:
            return True
    return False


def highlight(text: str, terms: list[str], *, max_chars: int = 240) -> str | None:
    """An HTML-safe snippet around the densest run of matches, or None."""
    if not text or not terms:
        return None
    terms = [t.lower() for t in terms]
    spans = [(tok.startchar, tok.endchar) for tok in ANALYZER(text[:200_000], chars=True, removestops=False)
             if _matches(tok.text, terms)]
    if not spans:
        return None
    # The window of max_chars holding the most matches.
    best_start, best_count, right = 0, 0, 0
    for left in range(len(spans)):
        while right < len(spans) and spans[right][1] - spans[left][0] <= max_chars:
            right += 1
        if right - left > best_count:
            best_start, best_count = left, right - left
    first = spans[best_start][0]
    start = max(0, first - max_chars // 4)
    if start:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and first - space < max_chars // 2 else start
    end = min(len(text), start + max_chars)
    parts = []
    cursor = start
    for begin, finish in spans:
        if begin < start or finish > end:
            continue
        parts.append(escape(text[cursor:begin]))
        parts.append(f"<mark>{escape(text[begin:finish])}</mark>")
        cursor = finish
    parts.append(escape(text[cursor:end]))
    snippet = " ".join("".join(parts).split())
    return ("… " if start else "") + snippet + (" …" if end < len(text) else "")
