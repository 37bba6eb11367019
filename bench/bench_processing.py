"""Processing figures: text and thumbnail throughput, worker peak memory, parent memory.

Run: .venv/bin/python bench/bench_processing.py   (needs LibreOffice for the thumbnail figure)
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from assets import extract, sample_files  # noqa: E402
from assets.processing import process_file  # noqa: E402


def deck(path: str, n: int) -> str:
    return sample_files.make_pptx(path, [
        {"title": f"Slide {i}: pricing and security", "notes": f"Speaker note {i}",
         "bullets": ["Per-bed pricing for healthcare", "SOC 2 Type II", "Onboarding in 30 days"],
         "table": [["Tier", "Price"], ["Pro", "$7"]] if i % 5 == 0 else None,
         "image": i % 10 == 0} for i in range(1, n + 1)])


def pdf(path: str, n: int) -> str:
    return sample_files.make_pdf(path, [{"title": f"Page {i}", "lines": [
        "Case study: onboarding time cut by 60%, ROI 310%."] * 30} for i in range(1, n + 1)])


def peak_rss_of_children(run) -> tuple[object, int]:
    """Run `run()` while sampling the RSS of this process's children every 20 ms."""
    me, peak, stop = psutil.Process(), [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            for child in me.children(recursive=False):
                try:
                    peak[0] = max(peak[0], child.memory_info().rss)
                except psutil.Error:
                    pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = run()
    finally:
        stop.set()
        sampler.join()
    return result, peak[0]


def main() -> None:
    mib = 2**20
    with tempfile.TemporaryDirectory() as tmp:
        figures = []
        pdf100 = pdf(os.path.join(tmp, "p100.pdf"), 100)
        deck100 = deck(os.path.join(tmp, "d100.pptx"), 100)

        started = time.perf_counter()
        extract.extract_pdf(pdf100)
        t = time.perf_counter() - started
        figures.append(("PDF text, 100 pages, in process", f"{t:.2f} s", f"{100 / t:,.0f} pages/s"))

        started = time.perf_counter()
        extract.extract_pptx(deck100)
        t = time.perf_counter() - started
        figures.append(("PPTX text, 100 slides, in process (target < 2 s)", f"{t:.2f} s",
                        f"{100 / t:,.0f} slides/s"))

        started = time.perf_counter()
        r = process_file(deck100, filename="d.pptx", work_dir=os.path.join(tmp, "w0"),
                         thumbnails=False)
        t = time.perf_counter() - started
        assert r.status == "ready"
        figures.append(("PPTX text, 100 slides, process_file (child incl. start-up)",
                        f"{t:.2f} s", f"{100 / t:,.0f} slides/s"))

        started = time.perf_counter()
        r = process_file(pdf100, filename="p.pdf", work_dir=os.path.join(tmp, "w1"))
        t = time.perf_counter() - started
        assert r.status == "ready" and len(r.page_pngs) == 100, r.warnings
        figures.append(("PDF text + thumbnails, 100 pages, process_file", f"{t:.2f} s",
                        f"{100 / t:,.0f} pages/s"))

        for label in ("first (profile may be cold)", "second (warm profile)"):
            started = time.perf_counter()
            r = process_file(deck100, filename="d.pptx", work_dir=os.path.join(tmp, "w2" + label))
            t = time.perf_counter() - started
            ok = r.status == "ready" and len(r.page_pngs) == 100
            figures.append((f"PPTX text + thumbnails, 100 slides, {label} (target < 30 s)",
                            f"{t:.2f} s" + ("" if ok else f" ({r.warnings})"),
                            f"{100 / t:,.1f} slides/s"))

        deck500 = deck(os.path.join(tmp, "d500.pptx"), 500)
        started = time.perf_counter()
        r, peak = peak_rss_of_children(lambda: process_file(
            deck500, filename="d.pptx", work_dir=os.path.join(tmp, "w3"), thumbnails=False))
        t = time.perf_counter() - started
        figures.append(("500-slide deck, text only: time / worker peak RSS",
                        f"{t:.2f} s", f"{peak / mib:,.0f} MiB"))
        started = time.perf_counter()
        r, peak = peak_rss_of_children(lambda: process_file(
            deck500, filename="d.pptx", work_dir=os.path.join(tmp, "w4")))
        t = time.perf_counter() - started
        figures.append(("500-slide deck, text + thumbnails: time / worker peak RSS "
                        "(Python child; soffice separate)", f"{t:.2f} s",
                        f"{peak / mib:,.0f} MiB, {len(r.page_pngs)} thumbnails"))

        me = psutil.Process()
        small = pdf(os.path.join(tmp, "small.pdf"), 3)
        rss = []
        started = time.perf_counter()
        for n in range(100):
            process_file(small, filename="s.pdf", work_dir=os.path.join(tmp, "jobs", str(n)))
            if n in (9, 49, 99):
                rss.append(me.memory_info().rss / mib)
        t = time.perf_counter() - started
        figures.append(("Parent RSS after 10 / 50 / 100 sequential jobs",
                        " / ".join(f"{v:.1f}" for v in rss) + " MiB",
                        f"{100 / t:.1f} jobs/s, fds {me.num_fds()}"))

    width = max(len(f[0]) for f in figures)
    for name, value, rate in figures:
        print(f"{name:<{width}}  {value:>12}  {rate}")


if __name__ == "__main__":
    main()
