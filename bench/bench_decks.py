"""Deck assembly benchmark: time and peak memory to build one .pptx from
slides of many source decks (pictures, tables, groups, notes); with mixed slide
sizes (fitted, assets/slide_fit.py) side by side with the same work at one size;
the cost of slide fingerprints per slide next to processing; and regrouping a
new 100-slide deck among 200,000 slides through the bucket index, side by side
with comparing it against all slides.

    .venv/bin/python bench/bench_decks.py [--slides 200000] [--skip-lineage]
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


def measure(label: str, refs: list[SlideRef], out: str, size: tuple[int, int] | None = None) -> None:
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
    build_deck(refs, out, size=size)
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    problems = validate_package(out)
    print(f"{label}: {elapsed:.2f} s, peak RSS {peak['rss'] / 2**20:.0f} MiB "
          f"(+{(peak['rss'] - baseline) / 2**20:.0f} MiB), {os.path.getsize(out) / 2**20:.1f} MiB file, "
          f"package {'valid' if not problems else problems[:3]}")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--slides", type=int, default=200_000, help="slides in the lineage index")
    parser.add_argument("--skip-lineage", action="store_true")
    parser.add_argument("--lineage-only", action="store_true", help="only the regrouping figure")
    parser.add_argument("--database-url", help="an empty database for the lineage index (default: an SQLite "
                        "file); e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench_lineage")
    args = parser.parse_args()
    from bench.bench_analytics import machine

    print(f"Machine: {machine()}, load average {os.getloadavg()[0]:.1f}", flush=True)
    if args.lineage_only:
        regrouping(args.slides, args.database_url)
        return
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as folder:
        sources = source_decks(folder, 50)
        for label, decks, slides in (("30 slides from 10 decks", 10, 30), ("200 slides from 50 decks", 50, 200)):
            chosen = sources[:decks]
            refs = [SlideRef(chosen[i % decks], rng.randint(1, 12)) for i in range(slides)]
            measure(label, refs, os.path.join(folder, f"out-{slides}.pptx"))
        mixed_sizes(folder)
        fingerprint_overhead(folder)
    if not args.skip_lineage:
        regrouping(args.slides, args.database_url)


def mixed_sizes(folder: str) -> None:
    """Fitted assembly (16:9, 4:3 and A4 portrait sources, with charts, tables, groups) next to
    the same picks from sources all of one size (copied as they are)."""
    from tests.support.sized_decks import LOOKS, SIZES, make_sized_deck

    names = list(SIZES)
    mixed = [make_sized_deck(os.path.join(folder, f"mixed-{n}.pptx"), names[n % 3], **LOOKS[names[n % 3]])
             for n in range(50)]
    same = [make_sized_deck(os.path.join(folder, f"same-{n}.pptx"), "16:9", **LOOKS[names[n % 3]])
            for n in range(50)]
    rng = random.Random(5)
    for label, decks, slides in (("30 slides from 10 decks", 10, 30), ("200 slides from 50 decks", 50, 200)):
        picks = [(i % decks, rng.randint(1, 3)) for i in range(slides)]
        # Each in a fresh child process, so its peak memory is its own.
        in_child(measure, f"{label}, mixed sizes, fitted to 16:9",
                 [SlideRef(mixed[d], n) for d, n in picks], os.path.join(folder, f"mixed-{slides}.pptx"),
                 size=SIZES["16:9"])
        in_child(measure, f"{label}, one size (plain copy)",
                 [SlideRef(same[d], n) for d, n in picks], os.path.join(folder, f"same-{slides}.pptx"))


def in_child(function, *args, **kwargs) -> None:
    import multiprocessing

    process = multiprocessing.get_context("spawn").Process(target=function, args=args, kwargs=kwargs)
    process.start()
    process.join()


def fingerprint_overhead(folder: str) -> None:
    """Processing a 30-slide deck (text, LibreOffice, thumbnails) next to fingerprinting its slides."""
    from assets.fingerprints import minhash, phash
    from assets.processing import process_file
    from tests.support.lineage_decks import base_slides, write_deck

    path = write_deck(os.path.join(folder, "thirty.pptx"), base_slides(30))
    started = time.perf_counter()
    result = process_file(path, filename="thirty.pptx", work_dir=os.path.join(folder, "work"))
    processing = time.perf_counter() - started
    assert result.status == "ready", result.error
    started = time.perf_counter()
    for page in result.pages:
        phash(result.page_pngs[page.number])
        minhash(f"{page.title}\n{page.text}")
    fingerprinting = time.perf_counter() - started
    n = len(result.pages)
    print(f"fingerprints: processing {processing / n * 1000:.0f} ms per slide, fingerprints "
          f"{fingerprinting / n * 1000:.1f} ms per slide (+{fingerprinting / processing:.1%}; target < 20%)",
          flush=True)


def _copy_rows(table: str, rows: list[dict]) -> None:
    """Bulk-load rows into a PostgreSQL table with COPY, in the session's transaction."""
    from portal.extensions import db

    columns = list(rows[0])
    with db.session.connection().connection.driver_connection.cursor() as cursor, \
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def regrouping(total: int, database_url: str | None = None) -> None:
    """A new 100-slide deck (half copies or edits of slides already there) grouped among `total`
    slides: portal.decks.lineage.group_pages through the bucket index, next to loading every
    fingerprint and comparing the new slides against all of them (numpy, vectorised).
    With `database_url` the index lives there (its tables are created, and dropped after)."""
    import numpy as np
    from sqlalchemy import event, insert, select, text

    from assets.fingerprints import NUM_HASHES, bucket_keys, hamming
    from portal import create_app
    from portal.config import load_settings
    from portal.decks.lineage import group_pages
    from portal.extensions import db
    from portal.models import Asset, AssetVersion, Page, SlideBucket, User

    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory() as data_dir:
        env = {"PORTAL_DATA_DIR": data_dir, "PORTAL_QUEUE": "immediate"}
        if database_url:
            env["DATABASE_URL"] = database_url
        app = create_app(load_settings(env),
                         START_EMBEDDED_WORKER=False, AUTO_MIGRATE=False, WTF_CSRF_ENABLED=False)
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            user = User(email="bench@example.com", name="Bench", role="marketer")
            user.set_password("bench-password-1")
            db.session.add(user)
            db.session.flush()
            per_deck = 100
            decks = total // per_deck + 1
            for n in range(decks):
                asset = Asset(title=f"Deck {n}", owner_id=user.id, content_type="deck")
                db.session.add(asset)
                db.session.flush()
                version = AssetVersion(asset_id=asset.id, number=1, filename="d.pptx", storage_key=f"k{n}",
                                       size=1, sha256="0" * 64, mime="x", kind="pptx", processing="ready")
                db.session.add(version)
                db.session.flush()
                asset.current_version_id = version.id
            db.session.commit()
            versions = list(db.session.scalars(select(AssetVersion.id).order_by(AssetVersion.id)))
            signatures = rng.integers(0, 2**32, (total + per_deck, NUM_HASHES), dtype=np.uint32)
            looks = rng.integers(0, 2**63, total + per_deck, dtype=np.int64)
            # One slide in ten already there is a copy of another (its group has members).
            for i in range(0, total, 10):
                signatures[i + 1] = signatures[i]
                looks[i + 1] = looks[i]
            # The new deck (the last 100): half are edits of slides already there.
            for k in range(per_deck // 2):
                source = int(rng.integers(0, total))
                edit = signatures[source].copy()
                edit[rng.choice(NUM_HASHES, 8, replace=False)] = rng.integers(0, 2**32, 8, dtype=np.uint32)
                signatures[total + k], looks[total + k] = edit, looks[source] ^ 0b101
            pages, buckets = [], []
            for i in range(total + per_deck):
                version_index = i // per_deck
                page = {"id": i + 1, "version_id": versions[version_index], "asset_id": version_index + 1,
                        "number": i % per_deck + 1, "title": f"Slide {i}", "notes": "",
                        "text": f"synthetic slide {i} with enough words to be compared by its text",
                        "phash": f"{int(looks[i]) & (2**64 - 1):016x}", "minhash": signatures[i].astype("<u4").tobytes(),
                        "group_id": i + 1 if i < total else None}
                pages.append(page)
                if i < total:
                    buckets += [{"key": k, "page_id": i + 1} for k in set(bucket_keys(page["phash"], page["minhash"]))]
            if db.engine.dialect.name == "postgresql":
                # COPY: row-by-row inserts of the 4,000,000 bucket rows took 37 minutes on the shared machine.
                _copy_rows("pages", pages)
                _copy_rows("slide_buckets", buckets)
            else:
                for start in range(0, len(pages), 20000):
                    db.session.execute(insert(Page), pages[start:start + 20000])
                for start in range(0, len(buckets), 100000):
                    db.session.execute(insert(SlideBucket), buckets[start:start + 100000])
            # Existing copies share a group, as grouping would have left them.
            db.session.execute(Page.__table__.update().where(Page.id % 10 == 2).values(group_id=Page.id - 1))
            db.session.commit()
            if db.engine.dialect.name == "postgresql":
                for table in ("pages", "slide_buckets"):  # as autovacuum would, soon after a bulk load
                    db.session.execute(text(f"ANALYZE {table}"))
                db.session.commit()
            print(f"lineage index: {total:,} slides, {len(buckets):,} bucket rows, built in "
                  f"{time.perf_counter() - started:.0f} s ({db.engine.dialect.name})", flush=True)
            new_ids = list(range(total + 1, total + per_deck + 1))
            in_database = []  # [seconds, statement] of each statement, cursor to result
            event.listen(db.engine, "before_cursor_execute",
                         lambda conn, cursor, statement, *args: in_database.append([-time.perf_counter(), statement]))
            event.listen(db.engine, "after_cursor_execute",
                         lambda *args: in_database[-1].__setitem__(0, in_database[-1][0] + time.perf_counter()))
            started = time.perf_counter()
            joined = group_pages(new_ids)
            indexed = time.perf_counter() - started
            print(f"group_pages: {len(in_database)} statements, {sum(s for s, _ in in_database):.3f} s of "
                  f"{indexed:.3f} s between cursor and result; the slowest:", flush=True)
            for seconds, statement in sorted(in_database, key=lambda item: item[0], reverse=True)[:4]:
                print(f"  {seconds:.3f} s  {' '.join(statement.split())[:90]}", flush=True)
            started = time.perf_counter()
            rows = db.session.execute(select(Page.id, Page.phash, Page.minhash).where(Page.id <= total)).all()
            matrix = np.frombuffer(b"".join(r.minhash for r in rows), dtype="<u4").reshape(len(rows), NUM_HASHES)
            found = 0
            for pid in new_ids:
                mine = np.frombuffer(pages[pid - 1]["minhash"], dtype="<u4")
                similarity = (matrix == mine).mean(axis=1)
                close = np.nonzero(similarity >= 0.5)[0]
                found += any(hamming(rows[c].phash, pages[pid - 1]["phash"]) <= 20 for c in close)
            all_pairs = time.perf_counter() - started
            print(f"regrouping a new 100-slide deck among {total:,} slides ({db.engine.dialect.name}): bucket index "
                  f"{indexed:.3f} s ({joined} joined a group; target < 1 s); all pairs (numpy) {all_pairs:.2f} s "
                  f"({found} found)", flush=True)
            if database_url:
                db.session.rollback()
                db.drop_all()


if __name__ == "__main__":
    main()
