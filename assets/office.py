"""PPTX/DOCX/XLSX to PDF with LibreOffice headless, bounded in time and in number.

Each conversion runs one soffice in its own process group with a profile directory
of its own; it dies with the process that started it. Profiles live in numbered slots (`slot-0`, `slot-1`, ...) that are kept
between conversions, so only the first conversion in a slot pays LibreOffice's
first-start cost (the warm profile). A slot is held with an exclusive file lock,
which bounds concurrent conversions across every process of the machine that
shares the profile root, and keeps two soffice processes off one profile.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from assets.children import preexec

INSTALL_HINT = ("apt-get install -y libreoffice-impress-nogui libreoffice-writer-nogui "
                "libreoffice-calc-nogui")
DEFAULT_SLOTS = 2
_SUFFIX = {"pptx": ".pptx", "docx": ".docx", "xlsx": ".xlsx"}
# The PDF export filter of each application; naming it lets options (a page range) follow.
_PDF_FILTER = {"pptx": "impress_pdf_Export", "docx": "writer_pdf_Export",
               "xlsx": "calc_pdf_Export"}
# A deck's hidden slides are exported too: without them the PDF's page N is no longer slide N,
# and the viewer, thumbnails, search hits and attention would name different slides.
_ALWAYS = {"pptx": {"ExportHiddenSlides": {"type": "boolean", "value": "true"}}}
_running: set[int] = set()  # process groups of conversions in flight (for kill_all)


class OfficeError(Exception):
    """Base class; str(error) is a sentence for people."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class OfficeUnavailable(OfficeError):
    pass


class ConversionFailed(OfficeError):
    pass


class ConversionTimeout(OfficeError):
    pass


def find_soffice(soffice: str | None = None) -> str:
    """The soffice executable: the argument, $COLLATERAL_SOFFICE, PATH, /usr/bin/soffice."""
    for candidate in (soffice, os.environ.get("COLLATERAL_SOFFICE")):
        if candidate:
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
            found = shutil.which(candidate)
            if found:
                return found
            raise OfficeUnavailable(f"LibreOffice was not found at {candidate}; "
                                    f"install it with: {INSTALL_HINT}")
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    if os.access("/usr/bin/soffice", os.X_OK):
        return "/usr/bin/soffice"
    raise OfficeUnavailable(f"LibreOffice (soffice) is not installed; install it with: {INSTALL_HINT}")


def default_profile_root() -> str:
    root = os.environ.get("COLLATERAL_OFFICE_PROFILES")
    if root:
        return root
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "collateral", "libreoffice")


def profile_dir(root: str, slot: int) -> str:
    """The LibreOffice user profile of one slot, kept between conversions (the warm profile)."""
    return os.path.join(root, f"slot-{slot}")


def pdf_target(kind: str, max_pages: int | None = None) -> str:
    """The --convert-to argument: plain "pdf", or the kind's export filter with its options.

    LibreOffice (7.4 and later) reads filter options as JSON; a page range makes it stop
    writing after `max_pages` pages, so a spreadsheet whose used range prints to
    thousands of pages costs a bounded PDF.
    """
    export_filter = _PDF_FILTER.get(kind)
    options = dict(_ALWAYS.get(kind, {}))
    if max_pages:
        options["PageRange"] = {"type": "string", "value": f"1-{int(max_pages)}"}
    if not options or export_filter is None:
        return "pdf"
    return f"pdf:{export_filter}:{json.dumps(options, separators=(',', ':'))}"


def default_slots() -> int:
    try:
        return max(1, int(os.environ.get("COLLATERAL_OFFICE_SLOTS", DEFAULT_SLOTS)))
    except ValueError:
        return DEFAULT_SLOTS


@contextmanager
def _slot(root: str, slots: int, deadline: float) -> Iterator[str]:
    """Hold one profile slot; wait (until the deadline) while all are busy."""
    os.makedirs(root, exist_ok=True)
    while True:
        for number in range(slots):
            lock_path = os.path.join(root, f"slot-{number}.lock")
            handle = open(lock_path, "a+")  # noqa: SIM115 - held for the conversion
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            try:
                yield profile_dir(root, number)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        if time.monotonic() >= deadline:
            raise ConversionTimeout("LibreOffice was busy with other conversions for too long.")
        time.sleep(0.2)


def _kill_group(pgid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        if sig == signal.SIGTERM:
            time.sleep(0.3)


def kill_all() -> None:
    """Kill every conversion this process started (used when the worker is told to stop)."""
    for pgid in list(_running):
        _kill_group(pgid)
        _running.discard(pgid)


def convert_to_pdf(src: str, out_dir: str, timeout: float = 120, *, kind: str | None = None,
                   soffice: str | None = None, profile_root: str | None = None,
                   slots: int | None = None, memory_limit_mb: int | None = None,
                   max_pages: int | None = None,
                   on_start: Callable[[int], None] | None = None) -> str:
    """Convert `src` to PDF inside `out_dir`; return the PDF's path.

    `kind` (pptx, docx, xlsx) names the real format when the file's own name cannot
    be trusted; with `kind` known, `max_pages` bounds the pages LibreOffice writes. `on_start` receives the soffice process group id (so a supervisor can
    kill it if this process dies first). Raises OfficeUnavailable, ConversionTimeout (the whole soffice process
    group is killed) or ConversionFailed.
    """
    executable = find_soffice(soffice)
    deadline = time.monotonic() + timeout
    os.makedirs(out_dir, exist_ok=True)
    suffix = _SUFFIX.get(kind or "", Path(src).suffix.lower() or ".bin")
    target_format = pdf_target(kind or suffix.lstrip("."), max_pages)
    with tempfile.TemporaryDirectory(prefix="convert-", dir=out_dir) as scratch:
        # A plain name with the right extension: LibreOffice picks its import filter from it
        # and names the output after it.
        source = os.path.join(scratch, "document" + suffix)
        try:
            os.symlink(os.path.abspath(src), source)
        except OSError:
            shutil.copyfile(src, source)
        with _slot(profile_root or default_profile_root(), slots or default_slots(), deadline) \
                as profile:
            command = [
                executable,
                f"-env:UserInstallation={Path(profile).absolute().as_uri()}",
                "--headless", "--invisible", "--nologo", "--nodefault", "--norestore",
                "--nolockcheck", "--convert-to", target_format, "--outdir", scratch, source,
            ]
            env = dict(os.environ, HOME=os.environ.get("HOME", scratch), SAL_USE_VCLPLUGIN="svp")
            remaining = max(0.1, deadline - time.monotonic())
            try:
                # Its own process group (killed whole at the deadline), its memory capped, and
                # killed by the kernel if this process dies first (soffice.bin goes with it).
                process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT, env=env, cwd=scratch, start_new_session=True,
                    preexec_fn=preexec(memory_limit_mb))
            except OSError as error:
                raise OfficeUnavailable(f"LibreOffice could not be started ({error}); "
                                        f"install it with: {INSTALL_HINT}") from None
            _running.add(process.pid)
            if on_start:
                on_start(process.pid)
            try:
                output, _ = process.communicate(timeout=remaining)
            except subprocess.TimeoutExpired:
                _kill_group(process.pid)
                process.communicate()
                raise ConversionTimeout(
                    f"LibreOffice did not finish within {timeout:g} s and was stopped.") from None
            finally:
                _running.discard(process.pid)
                # Helpers that outlive soffice (oosplash children) go with the group.
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        produced = os.path.join(scratch, "document.pdf")
        if not os.path.exists(produced) or os.path.getsize(produced) == 0:
            message = (output or b"").decode("utf-8", "replace").strip().splitlines()
            detail = message[-1][:200] if message else f"exit status {process.returncode}"
            raise ConversionFailed(f"LibreOffice could not convert the file ({detail}).")
        target = os.path.join(out_dir, Path(src).stem[:100] + ".pdf")
        os.replace(produced, target)
        return target
