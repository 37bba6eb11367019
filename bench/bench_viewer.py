"""Time to page 1 of a 100-page PDF in the viewer (Chromium, PDF.js), beside the plain
alternative: downloading the whole file in the same browser.

    .venv/bin/python bench/bench_viewer.py [--runs 7]

A real server on loopback (werkzeug, threaded) over a fresh embedded portal (SQLite, local
files), Debian's Chromium driven by Playwright (headless). Two documents of 100 pages: a
text PDF (assets/sample_files.make_pdf, 40 lines a page) and the PDF rendition LibreOffice
makes of a 100-slide deck with pictures and tables (what the viewer shows of decks), and a
large one: 100 pages that are each a 1200x900 photo-like JPEG.

Figures, each the median (and max) of --runs runs:
- viewer, cold: a new browser context (no cache), navigation start -> page 1 drawn on the
  canvas (viewer.js records `data-first-page-ms`, performance.now() at that moment);
- viewer, warm: the same in the same context (scripts and the PDF cached, revalidated);
- download: fetch() of the original file (the PDF, or the .pptx) from the download URL,
  reading every byte, in a page already open: what "Download" costs before a reader even
  starts. (Chromium's own PDF viewer is not measured: headless Chromium downloads PDFs.)
Target (issue 16): page 1 visible in under 1 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PASSWORD = "correct-horse-battery"


def _documents(folder: Path) -> list[tuple[str, Path]]:
    from assets.sample_files import make_pdf, make_pptx

    text_pdf = Path(make_pdf(str(folder / "handbook.pdf"), [
        {"title": f"Section {n}: pricing and rollout",
         "lines": [f"Line {k} of section {n}: hospital pricing, payback, security review, rollout plan."
                   for k in range(1, 41)]} for n in range(1, 101)]))
    deck = Path(make_pptx(str(folder / "deck.pptx"), [
        {"title": f"Slide {n}: the value story", "bullets": [f"Point {k} of slide {n}" for k in range(1, 5)],
         "image": n % 2 == 0, "table": [["Tier", "Price"], ["Basic", "10"], ["Pro", "25"]] if n % 3 == 0 else None,
         "notes": f"Notes of slide {n}"} for n in range(1, 101)]))
    photos = folder / "catalogue.pdf"  # 100 scanned-looking pages: a large file
    import random

    from PIL import Image

    noise = random.Random(7)
    pages = [Image.frombytes("RGB", (1200, 900), noise.randbytes(1200 * 900 * 3)) for _ in range(100)]
    pages[0].save(photos, save_all=True, append_images=pages[1:], quality=80)
    return [("text PDF, 100 pages", text_pdf), ("deck rendition (LibreOffice), 100 slides", deck),
            ("image PDF (a photo a page), 100 pages", photos)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from portal import create_app
    from portal.config import load_settings

    work = Path(tempfile.mkdtemp(prefix="bench-viewer-"))
    try:
        (work / "data").mkdir()
        settings = load_settings({"PORTAL_DATA_DIR": str(work / "data"), "SECRET_KEY": "bench",
                                  "PORTAL_QUEUE": "immediate"})
        app = create_app(replace(settings), START_EMBEDDED_WORKER=False)
        assets = []
        with app.app_context():
            from portal.admin.services import save_user
            from portal.library.services import create_asset
            from portal.viewer.previews import viewer_pages

            marketer, _ = save_user("bench-marketer@example.com", role="marketer", password=PASSWORD)
            save_user("bench-rep@example.com", role="rep", password=PASSWORD)
            for label, path in _documents(work):
                with open(path, "rb") as stream:
                    asset = create_asset(marketer, stream, path.name, {"title": label}, 10 ** 9).asset
                version = asset.current_version
                pdf_bytes = (work / "data" / "files" / (version.preview_key or version.storage_key))
                size = pdf_bytes.stat().st_size if pdf_bytes.exists() else 0
                assets.append((label, asset.id, viewer_pages(version), size))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"

        print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        rows = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                 args=["--no-sandbox", "--disable-gpu"])
            print(f"browser: Chromium {browser.version} (headless)")

            def signed_in_context():
                context = browser.new_context(base_url=base, viewport={"width": 1366, "height": 768})
                page = context.new_page()
                page.goto("/login")
                page.fill("input[name=email]", "bench-rep@example.com")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(lambda url: "/login" not in url)
                return context, page

            def first_page_ms(page, asset_id: int) -> float:
                page.goto(f"/assets/{asset_id}/view")
                page.wait_for_selector("[data-viewer][data-rendered='1']", timeout=60_000)
                return float(page.locator("[data-viewer]").get_attribute("data-first-page-ms"))

            for label, asset_id, pages, size in assets:
                cold, warm, download = [], [], []
                for _ in range(args.runs):
                    context, page = signed_in_context()
                    cold.append(first_page_ms(page, asset_id))
                    warm.append(first_page_ms(page, asset_id))
                    download.append(page.evaluate("""async (url) => {
                        const started = performance.now();
                        const response = await fetch(url, {cache: "no-store"});
                        await response.arrayBuffer();
                        return performance.now() - started;
                    }""", f"/assets/{asset_id}/download"))
                    context.close()
                rows.append((label, pages, size, cold, warm, download))
            browser.close()
        server.shutdown()

        print("\n| document | pages | PDF size | viewer: page 1 visible, cold | warm | download the original file |")
        print("|---|---|---|---|---|---|")
        for label, pages, size, cold, warm, download in rows:
            def fmt(values):
                return f"{statistics.median(values):.0f} ms (max {max(values):.0f})"
            print(f"| {label} | {pages} | {size / 1024:.0f} KiB | {fmt(cold)} | {fmt(warm)} | {fmt(download)} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
