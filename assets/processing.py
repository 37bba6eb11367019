"""The one entry point the background worker calls: `process_file`.

The work (inspection, extraction, rendering) runs in a child process,
`python -m assets.processing`, with an address-space limit (RLIMIT_AS) and a
wall-clock deadline; the parent kills it when either is exceeded, and a crash of
the child (a segfault in PDFium, say) becomes a failed result, never an exception.
The child, and the LibreOffice it starts, die with their parent
(assets/children.py): a worker killed mid-job leaves no process behind.

The child reports over a pipe, one JSON object per line:
  {"t": "progress", "stage", "done", "total"}   -> on_progress(stage, done, total)
  {"t": "extracted", ...}  text of every page, sent as soon as it exists, so a
                           rendering problem afterwards still leaves a ready result
  {"t": "page", "number", "path"} / {"t": "cover", "path"}  thumbnails as they appear
  {"t": "preview", "path", "pages"}  the PDF LibreOffice made of an office file, kept in work_dir
  {"t": "office", "pgid"}  a LibreOffice process group to kill if the child dies
  {"t": "warning", "text"} / {"t": "failed", "error"} / {"t": "done"}
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from assets.children import ChildOutcome, child_setup, killpg, run_child
from assets.extract import PageContent

log = logging.getLogger(__name__)

__all__ = ["PageContent", "ProcessingResult", "process_file"]


@dataclass
class ProcessingResult:
    kind: str                      # pdf, pptx, docx, xlsx, image, video, other, empty
    status: str                    # "ready" | "failed"
    error: str | None              # human reason when failed
    page_count: int = 0
    pages: list[PageContent] = field(default_factory=list)
    cover_png: str | None = None   # path of a PNG file in work_dir
    # Keyed by page number: slides, document pages, and for a workbook its sheets
    # (thumbnail N is the first printed page of sheet N; empty sheets have none).
    page_pngs: dict[int, str] = field(default_factory=dict)
    # The PDF rendition LibreOffice made of a pptx/docx/xlsx (work_dir/preview.pdf, at most
    # MAX_RENDERED_PAGES pages); None for PDFs, images and when thumbnails were not made.
    preview_pdf: str | None = None
    preview_pages: int | None = None  # pages in preview_pdf (a workbook prints more pages than sheets)
    metadata: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def process_file(path: str, *, filename: str, work_dir: str, thumbnails: bool = True,
                 timeout_seconds: float = 300, memory_limit_mb: int = 1536,
                 on_progress: Callable[[str, int, int], None] | None = None,
                 office_timeout: float = 120, soffice: str | None = None) -> ProcessingResult:
    """Inspect, extract and render one stored file. Never raises for a bad file.

    Thumbnails go to `work_dir/pages/page-NNNN.png` and `work_dir/cover.png` (the first
    printed page); office files keep LibreOffice's PDF as `work_dir/preview.pdf`.
    `office_timeout` bounds the LibreOffice step (it also stays inside
    `timeout_seconds`); `soffice` overrides where LibreOffice is found.
    """
    os.makedirs(work_dir, exist_ok=True)
    job = {"path": os.path.abspath(path), "filename": filename,
           "work_dir": os.path.abspath(work_dir), "thumbnails": thumbnails,
           "timeout": timeout_seconds, "memory_limit_mb": memory_limit_mb,
           "office_timeout": office_timeout, "soffice": soffice}
    state = _ParentState()
    try:
        outcome = run_child("assets.processing", job, cwd=work_dir, timeout=timeout_seconds,
                            on_message=lambda message: state.handle(message, on_progress))
    except OSError as error:
        return ProcessingResult(kind="other", status="failed",
                                error=f"The processing worker could not start ({error}).")
    finally:
        # The child kills its LibreOffice when told to stop; if it was killed outright,
        # its soffice (which dies with it) may still be on its way out.
        for pgid in state.office_groups:
            killpg(pgid, signal.SIGKILL)
    return state.result(outcome, timeout_seconds, memory_limit_mb)


class _ParentState:
    def __init__(self) -> None:
        self.kind = "other"
        self.extracted: dict | None = None
        self.error: str | None = None
        self.warnings: list[str] = []
        self.metadata: dict = {}
        self.page_pngs: dict[int, str] = {}
        self.cover: str | None = None
        self.preview: str | None = None
        self.preview_pages: int | None = None
        self.done = False
        self.stage = "starting"
        self.office_groups: list[int] = []

    def handle(self, message: dict, on_progress) -> None:
        kind = message.get("t")
        if kind == "progress":
            self.stage = message["stage"]
            if on_progress:
                try:
                    on_progress(message["stage"], message["done"], message["total"])
                except Exception:  # a reporting problem must not stop the job
                    log.exception("on_progress failed")
        elif kind == "kind":
            self.kind = message["kind"]
            self.metadata.update(message.get("metadata") or {})
        elif kind == "extracted":
            self.extracted = message
        elif kind == "page":
            self.page_pngs[int(message["number"])] = message["path"]
        elif kind == "cover":
            self.cover = message["path"]
        elif kind == "preview":
            self.preview = message["path"]
            self.preview_pages = message.get("pages")
        elif kind == "office":
            self.office_groups.append(int(message["pgid"]))
        elif kind == "warning":
            self.warnings.append(message["text"])
        elif kind == "failed":
            self.error = message["error"]
        elif kind == "done":
            self.done = True

    def result(self, outcome: ChildOutcome, timeout: float, memory_limit_mb: int) -> ProcessingResult:
        returncode, stderr_tail = outcome.returncode, outcome.stderr_tail
        if outcome.timed_out:
            problem = f"Processing took longer than {timeout:g} s"
        elif outcome.out_of_memory:
            problem = f"Processing needed more memory than allowed ({memory_limit_mb} MB)"
        elif returncode and returncode < 0:
            problem = f"Processing crashed ({signal.Signals(-returncode).name}) while reading the file"
        elif returncode:
            problem = f"Processing stopped unexpectedly (exit status {returncode})"
        else:
            problem = None
        if not self.done and problem is None and self.error is None:
            problem = "Processing stopped before it finished"
        if returncode and stderr_tail.strip():
            log.warning("processing child exited with %s: %s", returncode, stderr_tail[-2000:])
        result = ProcessingResult(kind=self.kind, status="ready", error=None,
                                  metadata=dict(self.metadata), warnings=list(self.warnings),
                                  page_pngs=dict(self.page_pngs), cover_png=self.cover,
                                  preview_pdf=self.preview, preview_pages=self.preview_pages)
        if self.error is not None or self.extracted is None:
            result.status = "failed"
            result.error = self.error or (problem + ".")
            return result
        result.page_count = int(self.extracted["page_count"])
        result.pages = [PageContent(**page) for page in self.extracted["pages"]]
        result.metadata.update(self.extracted.get("metadata") or {})
        result.warnings = list(self.extracted.get("warnings") or []) + result.warnings
        if not self.done:
            # The text is safe; only the pictures are missing or partial.
            result.warnings.append(f"Thumbnails unavailable or incomplete: {problem.lower()}.")
            if result.cover_png is None and result.page_pngs:
                from assets.thumbnails import make_cover

                result.cover_png = make_cover(result.page_pngs, os.path.dirname(
                    os.path.dirname(next(iter(result.page_pngs.values())))))
        return result


# --- the child ------------------------------------------------------------------------

def _child(fd: int, job: dict) -> int:
    started = time.monotonic()
    channel = child_setup(job, fd)
    send = channel.send

    def stop(signum, frame) -> None:
        from assets import office

        office.kill_all()
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    progress_state = {"extracted": False}
    try:
        _run(job, send, started, progress_state)
    except MemoryError:
        reason = f"needed more memory than allowed ({job['memory_limit_mb']} MB)"
        if progress_state["extracted"]:
            send(t="warning", text=f"Thumbnails unavailable: processing {reason}.")
        else:
            send(t="failed", error=f"Processing {reason}.")
    except Exception as error:  # the last line of defence: a reason, never a traceback
        import traceback

        traceback.print_exc()
        if progress_state["extracted"]:
            send(t="warning", text=f"Thumbnails unavailable ({error.__class__.__name__}).")
        else:
            send(t="failed",
                 error=f"The file could not be processed ({error.__class__.__name__}).")
    send(t="done")
    channel.close()
    return 0


def _run(job: dict, send, started: float, progress_state: dict) -> None:
    from assets import extract as ex
    from assets import inspect as ins
    from assets import thumbnails as th

    path, filename, work_dir = job["path"], job["filename"], job["work_dir"]

    def progress(stage: str, done: int, total: int) -> None:
        send(t="progress", stage=stage, done=done, total=total)

    progress("inspecting", 0, 1)
    kind = ins.sniff(path)
    metadata: dict = {"detected": kind.value, "bytes": os.path.getsize(path)}
    mismatch = ins.describe_mismatch(kind, filename)
    if mismatch:
        metadata["mismatch"] = mismatch
        send(t="warning", text=mismatch)
    send(t="kind", kind=ins.category(kind), metadata=metadata)
    progress("inspecting", 1, 1)

    claimed = ins.claimed_kinds(filename) or frozenset()
    if kind in (ins.FileKind.ZIP, ins.FileKind.OTHER, ins.FileKind.OLE) and \
            claimed & (ins.OFFICE_KINDS | {ins.FileKind.PDF} | ins.IMAGE_KINDS):
        if kind is ins.FileKind.ZIP:
            try:
                ex.check_zip(path)
            except ex.ExtractionFailed as error:
                send(t="failed", error=error.reason)
                return
        send(t="failed", error=mismatch or "The file is damaged.")
        return

    try:
        extraction = ex.extract(path, kind, on_progress=progress)
    except ex.ExtractionFailed as error:
        send(t="failed", error=error.reason)
        return
    send(t="extracted", page_count=extraction.page_count,
         pages=[asdict(page) for page in extraction.pages],
         metadata=extraction.metadata, warnings=extraction.warnings)
    progress_state["extracted"] = True

    if not job["thumbnails"]:
        return

    cover: list[str] = []

    def on_page(number: int, png: str) -> None:
        send(t="page", number=number, path=png)
        if not cover:  # pages arrive in print order: the first one is the cover
            cover.append(th.make_cover({number: png}, work_dir))
            send(t="cover", path=cover[0])

    preview: list[str] = []

    def on_pdf(pdf: str) -> None:
        preview.append(pdf)
        try:
            pages = th.pdf_page_count(pdf)
        except th.ThumbnailFailed:
            pages = None
        send(t="preview", path=pdf, pages=pages)

    try:
        if kind is ins.FileKind.PDF:
            th.render_pdf_pages(path, work_dir, on_page=on_page, on_progress=progress)
        elif kind in ins.OFFICE_KINDS:
            remaining = job["timeout"] - (time.monotonic() - started)
            # Leave time to render the PDF so a slow LibreOffice costs only the pictures.
            office_timeout = max(0.05, min(float(job["office_timeout"]), remaining * 0.8 - 2))
            sheets = [page.title for page in extraction.pages] \
                if kind is ins.FileKind.XLSX else None
            th.render_office(path, work_dir, kind=kind.value, timeout=office_timeout,
                             soffice=job.get("soffice"),
                             memory_limit_mb=max(2048, int(job["memory_limit_mb"])),
                             sheets=sheets, preview_pdf=os.path.join(work_dir, "preview.pdf"),
                             on_start=lambda pgid: send(t="office", pgid=pgid),
                             on_pdf=on_pdf, on_page=on_page,
                             on_warning=lambda text: send(t="warning", text=text),
                             on_progress=progress)
            if preview and not cover:  # a workbook whose sheets could not be told apart
                made = th.render_pdf_cover(preview[0], work_dir)
                if made:
                    send(t="cover", path=made)
        elif kind in ins.IMAGE_KINDS and not extraction.metadata.get("too_large"):
            png = th.render_image(path, os.path.join(work_dir, "pages", "page-0001.png"))
            on_page(1, png)
    except th.ThumbnailFailed as error:
        send(t="warning", text=f"Thumbnails unavailable: {error.reason}")
    except Exception as error:
        from assets.office import OfficeError

        if not isinstance(error, OfficeError):
            raise
        send(t="warning", text=f"Thumbnails unavailable: {error.reason}")


if __name__ == "__main__":
    sys.exit(_child(int(sys.argv[1]), json.loads(sys.argv[2])))
