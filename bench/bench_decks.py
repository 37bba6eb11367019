"""Deck assembly benchmark: time and peak memory to build one .pptx from
slides of many source decks (pictures, tables, groups, notes).

    .venv/bin/python bench/bench_decks.py
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from assets.deck_builder import SlideRef, build_deck  # noqa: E402
from assets.sample_files import make_pptx  # noqa: E402
from tests.support.pptx_package import validate_package  # noqa: E402


def source_decks(folder: str, count: int, slides_per_deck: int = 12) -> list[str]:
    paths = []
    for n in range(count):
        slides = [{
            "title": f"Deck {n} slide {s}",
            "bullets": [f"Point {k} of slide {s}" for k in range(4)],
            "notes": f"Speaker notes {n}.{s}",
            "table": [["Tier", "Price"], ["Essentials", "$10"], ["Enterprise", "$30"]] if s % 3 == 0 else None,
            "image": s % 2 == 0,
            "group": ["one", "two"] if s % 4 == 0 else None,
        } for s in range(1, slides_per_deck + 1)]
        paths.append(make_pptx(os.path.join(folder, f"source-{n}.pptx"), slides, widescreen=n % 5 != 4))
    return paths


def measure(label: str, refs: list[SlideRef], out: str) -> None:
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = {"rss": baseline}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["rss"] = max(peak["rss"], process.memory_info().rss)
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    build_deck(refs, out)
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    problems = validate_package(out)
    print(f"{label}: {elapsed:.2f} s, peak RSS {peak['rss'] / 2**20:.0f} MiB "
          f"(+{(peak['rss'] - baseline) / 2**20:.0f} MiB), {os.path.getsize(out) / 2**20:.1f} MiB file, "
          f"package {'valid' if not problems else problems[:3]}")


def main() -> None:
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        sources = source_decks(folder, 50)
        for label, decks, slides in (("30 slides from 10 decks", 10, 30), ("200 slides from 50 decks", 50, 200)):
            chosen = sources[:decks]
            refs = [SlideRef(chosen[i % decks], rng.randint(1, 12)) for i in range(slides)]
            measure(label, refs, os.path.join(folder, f"out-{slides}.pptx"))


if __name__ == "__main__":
    main()
