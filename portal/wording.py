"""How pages put things in words: counts with the right plural, the name of a slide
that has no title, snippets that do not repeat what the page already shows, and
processing states said the way a rep understands them."""

from __future__ import annotations

import re

# Nouns whose plural is not the noun + "s".
IRREGULAR = {"reply": "replies", "person": "people", "child": "children", "copy": "copies", "match": "matches",
             "search": "searches", "this": "these", "is": "are", "was": "were", "has": "have"}
MAX_LABEL = 80


def plural(count: int | None, noun: str, many: str | None = None) -> str:
    """'1 result', '2 results', '0 results'; `many` for a plural the table above does not know."""
    count = count or 0
    return f"{count:,} {noun_for(count, noun, many)}"


def noun_for(count: int | None, noun: str, many: str | None = None) -> str:
    """The noun alone, singular for exactly one: 'result' or 'results'."""
    if count == 1:
        return noun
    return many or IRREGULAR.get(noun) or (noun[:-1] + "ies" if re.search(r"[^aeiou]y$", noun) else noun + "s")


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def first_line(text: str | None, limit: int = MAX_LABEL) -> str:
    """The first line with words in it, cut at a word near `limit` characters."""
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        if _key(line):
            if len(line) <= limit:
                return line
            cut = line.rfind(" ", 0, limit)
            return line[:cut if cut > limit // 2 else limit].rstrip(" ,;:-") + "…"
    return ""


def page_label(page, kind: str = "Slide") -> str:
    """What to call a slide or page: its title, else its first line of text, else 'Slide N'."""
    return (page.title or "").strip() or first_line(page.text) or f"{kind} {page.number}"


def without_titles(text: str | None, *titles: str | None) -> str:
    """The text less the lines that only repeat a title the page already shows."""
    shown = {_key(t) for t in titles if t and _key(t)}
    if not text or not shown:
        return text or ""
    return "\n".join(line for line in text.splitlines() if _key(line) not in shown)


# Processing states as reps read them (staff see the same words, with details beside them).
PROCESSING_LABELS = {"pending": "Preparing preview", "ready": "Preview ready", "failed": "No preview"}


def processing_label(state: str | None) -> str:
    return PROCESSING_LABELS.get(state or "", state or "")
