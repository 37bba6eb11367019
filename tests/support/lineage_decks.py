"""Generated decks for slide lineage, with a known truth: which slides are the
same slide (copied as they are, or edited a little) and which are unrelated
(including unrelated slides on the same template, and short slides like
"Thank you" / "Questions?")."""

from __future__ import annotations

import random

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.util import Inches, Pt

VOCABULARY = (
    "pipeline renewal onboarding rollout pricing tier bed month hospital clinic nurse shift schedule "
    "compliance audit report dashboard integration support training week launch region partner budget "
    "forecast quarter margin discount contract pilot outcome patient record mobile alert escalation "
    "workflow staffing overtime savings benchmark survey feedback roadmap release security privacy "
    "uptime backup migration analytics insight adoption champion executive sponsor procurement legal"
).split()


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(VOCABULARY) for _ in range(n))


def base_slides(count: int, seed: int = 7) -> list[dict]:
    """Distinct slides: a title, three bullets of about eight words, a look."""
    rng = random.Random(seed)
    colours = ["1F3A5F", "2E7D32", "B58900", "8E44AD", "C0392B", "37474F"]
    return [{"title": f"{_sentence(rng, 3).title()}",
             "bullets": [_sentence(rng, 8) for _ in range(3)],
             "colour": colours[n % len(colours)]} for n in range(count)]


def edited(slide: dict, seed: int) -> dict:
    """The same slide edited a little: one word of one bullet changed."""
    rng = random.Random(seed)
    bullets = list(slide["bullets"])
    words = bullets[1].split()
    words[rng.randrange(len(words))] = "revised"
    bullets[1] = " ".join(words)
    return {**slide, "bullets": bullets}


def with_extra_bullet(slide: dict, seed: int) -> dict:
    """The same slide with one more bullet (a point added)."""
    return {**slide, "bullets": [*slide["bullets"], _sentence(random.Random(seed), 8)]}


def borrowing(first: dict, seed: int) -> dict:
    """Another slide on the same template that borrows one bullet of `first`: related, not the same slide."""
    rng = random.Random(seed)
    return {"title": _sentence(rng, 3).title(), "bullets": [first["bullets"][0], _sentence(rng, 8), _sentence(rng, 8)],
            "colour": first["colour"]}


def recoloured(slide: dict) -> dict:
    """The same words on another colour (a deck restyled)."""
    return {**slide, "colour": "455A64" if slide["colour"] != "455A64" else "6D4C41"}


def write_deck(path: str, slides: list[dict]) -> str:
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = Inches(13.333), Inches(7.5)
    for spec in slides:
        slide = presentation.slides.add_slide(presentation.slide_layouts[6])
        band = slide.shapes.add_shape(1, 0, 0, presentation.slide_width, Inches(1.4))
        band.fill.solid()
        band.fill.fore_color.rgb = RGBColor.from_string(spec["colour"])
        band.line.fill.background()
        title = slide.shapes.add_textbox(Inches(0.5), Inches(0.3), Inches(12), Inches(1))
        title.text_frame.text = spec["title"]
        title.text_frame.paragraphs[0].runs[0].font.size = Pt(36)
        title.text_frame.paragraphs[0].runs[0].font.color.rgb = RGBColor(255, 255, 255)
        if spec["bullets"]:
            body = slide.shapes.add_textbox(Inches(0.7), Inches(2), Inches(12), Inches(4.5))
            body.text_frame.word_wrap = True
            for n, line in enumerate(spec["bullets"]):
                paragraph = body.text_frame.paragraphs[0] if n == 0 else body.text_frame.add_paragraph()
                paragraph.text = "• " + line
                paragraph.runs[0].font.size = Pt(24)
    presentation.save(path)
    return path


def corpus(folder: str) -> tuple[dict[str, str], dict[tuple[str, int], str]]:
    """Four decks and the truth: {deck name: path}, {(deck, slide number): lineage label}.
    Slides with the same label are the same slide; labels starting with "u" are unique."""
    base = base_slides(14)
    thanks = {"title": "Thank you", "bullets": [], "colour": "1F3A5F"}
    questions = {"title": "Questions?", "bullets": [], "colour": "1F3A5F"}
    plan = {
        "alpha": [(base[0], "s0"), (base[1], "s1"), (base[2], "s2"), (base[3], "s3"), (base[4], "u4"),
                  (thanks, "thanks")],
        # copies of 0 and 1 as they are, 2 edited, 3 recoloured, unrelated slides on the same template
        "beta": [(base[0], "s0"), (base[1], "s1"), (edited(base[2], 1), "s2"), (recoloured(base[3]), "s3"),
                 (base[5], "u5"), (base[6], "u6"), (questions, "u-questions")],
        # an edited copy of an edited copy, and unrelated ones
        "gamma": [(edited(edited(base[2], 1), 2), "s2"), (base[7], "u7"), (base[8], "u8"), (thanks, "thanks"),
                  (edited(base[0], 3), "s0")],
        "delta": [(base[9], "u9"), (base[10], "u10"), (base[11], "u11"), (base[12], "u12"), (base[13], "u13"),
                  # a point added to a copy; a slide sharing one bullet with another (not the same slide)
                  (with_extra_bullet(base[1], 4), "s1"), (borrowing(base[0], 5), "u-borrowing"),
                  (borrowing(base[3], 6), "u-borrowing-2")],
    }
    paths, truth = {}, {}
    for name, slides in plan.items():
        paths[name] = write_deck(f"{folder}/{name}.pptx", [spec for spec, _ in slides])
        for number, (_, label) in enumerate(slides, start=1):
            truth[(name, number)] = label
    return paths, truth


def pair_scores(truth: dict, groups: dict) -> tuple[float, float, int, int]:
    """Precision and recall of a grouping over pairs of slides: (precision, recall, true pairs, found pairs)."""
    keys = sorted(truth)
    same_truth = {(a, b) for i, a in enumerate(keys) for b in keys[i + 1:] if truth[a] == truth[b]}
    same_found = {(a, b) for i, a in enumerate(keys) for b in keys[i + 1:] if groups[a] == groups[b]}
    hits = len(same_truth & same_found)
    precision = hits / len(same_found) if same_found else 1.0
    recall = hits / len(same_truth) if same_truth else 1.0
    return precision, recall, len(same_truth), len(same_found)
