"""Bad and hostile files end ready or failed-with-reason, within their bounds, and hurt no one.

No test measures how long something took: each checks the mechanism that bounds the
work (a refusal with its reason, a deadline's message, a killed process). Speed is
measured in bench/bench_processing.py.
"""

from __future__ import annotations

import os
import re
import zipfile

import psutil
import pytest

from assets import sample_files
from assets.processing import process_file
from tests.assets.processes import is_gone
from tests.support import hostile_files
from tests.tooling import require_executable

LIBREOFFICE_HINT = "apt-get install -y libreoffice-impress-nogui"


def run(path, filename, tmp_path, **options):
    result = process_file(str(path), filename=filename, work_dir=str(tmp_path / "work"),
                          **options)
    assert result.status in ("ready", "failed")
    if result.status == "failed":
        assert result.error and "Traceback" not in result.error
    assert os.path.exists(path), "the original file is kept"
    return result


@pytest.fixture(autouse=True)
def no_leftover_processes():
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield
    left = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    # Killed processes may take a moment to be reaped; a live one never goes away.
    _, alive = psutil.wait_procs(left, timeout=30)
    assert not [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def _hanging_soffice(tmp_path):
    """A LibreOffice that never finishes; it writes its pid to the returned file."""
    fake = tmp_path / "bin" / "soffice"
    fake.parent.mkdir()
    pidfile = tmp_path / "soffice.pid"
    fake.write_text(f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 600\n")
    fake.chmod(0o755)
    return str(fake), pidfile


def test_encrypted_pdf(tmp_path):
    path = hostile_files.make_encrypted_pdf(str(tmp_path / "locked.pdf"),
                                            [{"title": "Price", "lines": ["x"]}],
                                            user_password="secret")
    result = run(path, "locked.pdf", tmp_path)
    assert result.status == "failed"
    assert result.error == "The PDF is password-protected."


def test_password_protected_office_file(tmp_path):
    path = tmp_path / "locked.docx"  # encrypted OOXML is an OLE2 compound file
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000)
    result = run(path, "locked.docx", tmp_path)
    assert result.status == "failed" and "password" in result.error


def test_corrupt_zip(tmp_path):
    path = tmp_path / "broken.pptx"
    good = sample_files.make_pptx(str(tmp_path / "good.pptx"), [{"title": "A"}])
    path.write_bytes(open(good, "rb").read()[:3000])  # truncated: no central directory
    result = run(path, "broken.pptx", tmp_path)
    assert result.status == "failed"
    assert result.error == "The file is damaged (not a valid ZIP/Office file)."


def test_zip_that_is_not_office(tmp_path):
    path = tmp_path / "fake.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    result = run(path, "fake.docx", tmp_path)
    assert result.status == "failed" and "damaged" in result.error


def test_pptx_that_is_really_a_pdf(tmp_path):
    path = tmp_path / "deck.pptx"
    sample_files.make_pdf(str(path), [{"title": "Really a PDF", "lines": ["pricing"]}])
    result = run(path, "deck.pptx", tmp_path)
    assert result.status == "ready"
    assert result.kind == "pdf"
    assert result.pages[0].title == "Really a PDF"
    assert "PDF" in result.metadata["mismatch"]
    assert any("PDF" in warning for warning in result.warnings)
    assert 1 in result.page_pngs
    assert result.preview_pdf is None  # the PDF itself is the rendition; no LibreOffice


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.pptx"
    path.write_bytes(b"")
    result = run(path, "empty.pptx", tmp_path)
    assert result.status == "failed" and result.kind == "empty"
    assert "empty" in result.error


def test_decompression_bomb(tmp_path):
    path = hostile_files.make_zip_bomb(str(tmp_path / "bomb.docx"))
    assert os.path.getsize(path) < 5 * 2**20
    result = run(path, "bomb.docx", tmp_path)
    assert result.status == "failed"
    assert "decompression bomb" in result.error or "expands" in result.error


def test_png_pixel_bomb(tmp_path):
    path = hostile_files.make_png_bomb(str(tmp_path / "bomb.png"), 50_000, 50_000)
    result = run(path, "bomb.png", tmp_path)
    assert result.status == "ready"
    assert result.metadata["width"] == 50_000
    assert result.cover_png is None and result.page_pngs == {}  # never decoded
    assert any("very large" in warning for warning in result.warnings)


@pytest.fixture(scope="module")
def thousand_slide_deck(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.pptx"
    slides = [{"title": f"Slide {n}", "bullets": [f"Pricing point {n}", "Security"],
               "notes": f"Note {n}" if n % 10 == 0 else ""} for n in range(1, 1001)]
    return sample_files.make_pptx(str(path), slides)


@pytest.mark.slow
def test_thousand_slide_deck_text(tmp_path, thousand_slide_deck):
    progress = []
    result = run(thousand_slide_deck, "big.pptx", tmp_path, thumbnails=False,
                 on_progress=lambda *a: progress.append(a))
    assert result.status == "ready"
    assert result.page_count == 1000 and len(result.pages) == 1000
    assert result.pages[999].title == "Slide 1000"
    assert result.pages[9].notes == "Note 10" and result.pages[0].notes == ""
    assert ("extracting", 1000, 1000) in progress


def test_timeout_kills_the_child(tmp_path, monkeypatch):
    # Reading that never ends, simulated in the child (which says who it is first).
    pidfile = tmp_path / "child.pid"
    sitecustomize = tmp_path / "hang" / "sitecustomize.py"
    sitecustomize.parent.mkdir()
    sitecustomize.write_text(
        "import os, time\n"
        f"open({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
        "import assets.extract as ex\n"
        "ex.extract_pdf = lambda *a, **k: time.sleep(600)\n")
    monkeypatch.setenv("PYTHONPATH", str(sitecustomize.parent))  # only the child starts now
    path = sample_files.make_pdf(str(tmp_path / "a.pdf"), [{"title": "A", "lines": ["x"]}])
    result = run(path, "a.pdf", tmp_path, timeout_seconds=3)
    assert result.status == "failed"
    assert result.error == "Processing took longer than 3 s."
    assert is_gone(int(pidfile.read_text()))


def test_memory_limit(tmp_path, thousand_slide_deck):
    result = run(thousand_slide_deck, "big.pptx", tmp_path, thumbnails=False,
                 memory_limit_mb=40)
    assert result.status == "failed"
    assert "more memory than allowed (40 MB)" in result.error


def test_crash_of_the_child_is_a_reason(tmp_path, monkeypatch):
    # A segfault in PDFium, simulated: the child kills itself while reading.
    sitecustomize = tmp_path / "crash" / "sitecustomize.py"
    sitecustomize.parent.mkdir()
    sitecustomize.write_text(
        "import os, signal\n"
        "import assets.extract as ex\n"
        "ex.extract_pdf = lambda *a, **k: os.kill(os.getpid(), signal.SIGSEGV)\n")
    monkeypatch.setenv("PYTHONPATH", str(sitecustomize.parent))  # only the child starts now
    path = sample_files.make_pdf(str(tmp_path / "a.pdf"), [{"title": "A", "lines": ["x"]}])
    result = run(path, "a.pdf", tmp_path)
    assert result.status == "failed"
    assert "crashed (SIGSEGV)" in result.error
    # and this process goes on working
    monkeypatch.delenv("PYTHONPATH")
    again = run(path, "a.pdf", tmp_path / "again")
    assert again.status == "ready"


def test_hanging_libreoffice_leaves_text_ready(tmp_path):
    fake, pidfile = _hanging_soffice(tmp_path)
    deck = sample_files.make_pptx(str(tmp_path / "d.pptx"), [{"title": "Pricing", "notes": "n"}])
    result = run(deck, "d.pptx", tmp_path, soffice=fake, office_timeout=2)
    assert result.status == "ready"
    assert result.pages[0].title == "Pricing"
    # the office deadline fired (not the job's, 300 s by default) and LibreOffice was killed
    assert "Thumbnails unavailable: LibreOffice did not finish within 2 s and was stopped." \
        in result.warnings
    assert is_gone(int(pidfile.read_text()))
    assert result.page_pngs == {} and result.preview_pdf is None


def test_libreoffice_hanging_past_the_job_deadline(tmp_path):
    # LibreOffice may take up to office_timeout (120 s by default), longer than the job may:
    # its deadline is cut to fit in what is left of the job's, so the text is still ready.
    fake, pidfile = _hanging_soffice(tmp_path)
    deck = sample_files.make_pptx(str(tmp_path / "d.pptx"), [{"title": "Pricing"}])
    result = run(deck, "d.pptx", tmp_path, soffice=fake, timeout_seconds=12)
    assert result.status == "ready"
    assert result.pages[0].title == "Pricing"
    stopped = [re.search(r"LibreOffice did not finish within ([\d.]+) s", w)
               for w in result.warnings]
    office_deadline = [float(match.group(1)) for match in stopped if match]
    assert len(office_deadline) == 1 and office_deadline[0] < 12
    assert is_gone(int(pidfile.read_text()))


def test_real_libreoffice_with_a_tiny_timeout(tmp_path):
    require_executable("soffice", LIBREOFFICE_HINT)
    deck = sample_files.make_pptx(str(tmp_path / "d.pptx"), [{"title": f"S{n}"} for n in range(30)])
    result = run(deck, "d.pptx", tmp_path, office_timeout=0.05)
    assert result.status == "ready"
    assert result.page_count == 30
    assert any("LibreOffice did not finish" in w for w in result.warnings)


def test_many_sequential_jobs_keep_the_parent_small(tmp_path):
    path = sample_files.make_pdf(str(tmp_path / "a.pdf"), [{"title": "A", "lines": ["x"]}])
    me = psutil.Process()
    for n in range(5):
        run(path, "a.pdf", tmp_path / str(n))
    before = me.memory_info().rss
    for n in range(5, 25):
        assert run(path, "a.pdf", tmp_path / str(n)).status == "ready"
    assert me.memory_info().rss - before < 20 * 2**20
    assert me.num_fds() < 200
