"""Assembling one .pptx from slides of other decks, each keeping its own look.

python-pptx has no "copy slide" operation, so this works at the package
level: the result starts as the first slide's deck with its slides dropped
(so the slide size and the first theme come from there), then each chosen
slide's part graph is copied in: the slide, its layout, master and theme
(reused when an identical master is already in the result), pictures, media,
charts with their own embedded workbooks, diagrams, and the notes slide.
Relationship ids are kept, so the copied XML stays valid as it is.

`build_deck` does the work in the calling process. The portal calls
`build_deck_in_child`: the same work in `python -m assets.deck_builder`, a child
bounded in memory, time and output size that dies with its parent
(assets/children.py). Before it copies anything the child measures what the
result would hold (`measure_deck`: the zip directory and the small .rels parts
only, no slide XML is parsed) and refuses a deck larger than the limit, so a
slide carrying megabytes of XML, copied many times, is refused with a reason
instead of exhausting memory.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import posixpath
import re
import signal
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zipfile import BadZipFile

from lxml import etree
from pptx import Presentation
from pptx.exc import PackageNotFoundError
from pptx.opc.constants import RELATIONSHIP_TARGET_MODE as RTM
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.opc.package import Part, PartFactory, XmlPart, _Relationship
from pptx.opc.packuri import PackURI

from assets.children import ChildOutcome, child_setup, run_child
from assets.slide_fit import (
    Fit,
    default_text_sizes,
    fit_chart_part,
    fit_diagram_drawing,
    fit_slide_part,
    same_shape,
)

P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
FIRST_MASTER_ID = 2147483648  # ECMA-376: sldMasterId and sldLayoutId values start here
# Pictures and media may be shared between slides (identical bytes, read-only);
# embedded workbooks and everything else are copied for each slide.
SHAREABLE_MEDIA = ("image/", "video/", "audio/")
# Parts whose XML is fitted when a slide of another size is brought in (assets/slide_fit.py).
SLIDE_LIKE = ("presentationml.slide+xml", "presentationml.slideLayout+xml", "presentationml.slideMaster+xml")
CHART = "drawingml.chart+xml"
DIAGRAM_DRAWING = "drawingml.diagramDrawing+xml"
# A slide size in EMU: 1 inch to 56 inches (PowerPoint's own limits).
MIN_SLIDE_EMU, MAX_SLIDE_EMU = 914400, 51206400


class DeckAssemblyError(Exception):
    """A human-readable reason why the deck cannot be built."""


@dataclass(frozen=True)
class SlideRef:
    source: str  # path of a local .pptx
    slide_number: int  # 1-based


def _digest(*blobs: bytes) -> str:
    digest = hashlib.sha1()
    for blob in blobs:
        digest.update(hashlib.sha1(blob).digest())
    return digest.hexdigest()


def _template(partname: str) -> str:
    """'/ppt/charts/chart12.xml' -> '/ppt/charts/chart%d.xml'."""
    directory, name = partname.rsplit("/", 1)
    match = re.match(r"^(.*?)(\d*)(\.[^.]+)?$", name)
    stem, _, ext = match.groups()
    return f"{directory}/{stem}%d{ext or ''}"


def slide_size(path: str) -> tuple[int, int]:
    """(width, height) in EMU of a deck's slides, read from presentation.xml alone."""
    sizes = _PackageSizes(path)
    try:
        element = sizes._xml(sizes.presentation_part()).find(f"{{{P_NS}}}sldSz")
    finally:
        sizes.close()
    if element is None:
        return (9144000, 6858000)  # ECMA-376's default
    return (int(element.get("cx")), int(element.get("cy")))


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(size[0]), int(size[1]))
    if not (MIN_SLIDE_EMU <= width <= MAX_SLIDE_EMU and MIN_SLIDE_EMU <= height <= MAX_SLIDE_EMU):
        raise DeckAssemblyError("A slide size is between 1 and 56 inches on each side.")
    return width, height


class _Assembler:
    def __init__(self, base_path: str, size: tuple[int, int] | None = None):
        self.presentation = Presentation(base_path)
        self.package = self.presentation.part.package
        self._drop_all_slides()
        self.used_partnames = {str(p.partname).lower() for p in self.package.iter_parts()}
        self.sources: dict[str, Presentation] = {}
        # Per source deck: copied parts, so its slides share one master copy and one copy of each image.
        self.copied: dict[str, dict[str, Part]] = {}
        # Per source deck: how its slides are fitted to the deck's size (None: same size, copied as they are).
        self.fits: dict[str, Fit | None] = {}
        base_size = (self.presentation.slide_width, self.presentation.slide_height)
        self.size = check_size(size) if size else base_size
        base_fit = self._fit_between(base_size, self.presentation)
        self.masters_by_digest = {self._key(m.part, base_fit): m.part for m in self.presentation.slide_masters}
        if base_fit is not None:  # the deck's own masters and layouts, fitted in place
            self._set_size()
            for master in self.presentation.slide_masters:
                fit_slide_part(master.part._element, base_fit, is_master=True)
                for layout in master.slide_layouts:
                    fit_slide_part(layout.part._element, base_fit)
        self.binary_by_digest: dict[str, Part] = {}

    def _fit_between(self, source_size: tuple[int, int], source: Presentation) -> Fit | None:
        if same_shape(source_size, self.size):
            return None
        return Fit.between(source_size, self.size, default_text_sizes(source.part._element))

    def _set_size(self) -> None:
        element = self.presentation.part._element.find(f"{{{P_NS}}}sldSz")
        element.set("cx", str(self.size[0]))
        element.set("cy", str(self.size[1]))
        if "type" in element.attrib:  # "screen4x3" and friends name the old size
            del element.attrib["type"]

    @staticmethod
    def _key(master_part: Part, fit: Fit | None) -> str:
        """A master's identity in the result: its content and how it was fitted."""
        digest = _Assembler._master_digest(master_part)
        return digest if fit is None else f"{digest}@{fit.scale:.6f},{fit.dx},{fit.dy}"

    def _drop_all_slides(self) -> None:
        slide_list = self.presentation.slides._sldIdLst
        for slide_id in list(slide_list):
            self.presentation.part.drop_rel(slide_id.rId)
            slide_list.remove(slide_id)

    @staticmethod
    def _master_digest(master_part: Part) -> str:
        layouts = [rel.target_part.blob for rel in sorted(master_part.rels.values(), key=lambda r: r.rId)
                   if rel.reltype == RT.SLIDE_LAYOUT]
        theme = master_part.part_related_by(RT.THEME).blob
        return _digest(master_part.blob, theme, *layouts)

    def _next_partname(self, template: str) -> PackURI:
        number = 1
        while (template % number).lower() in self.used_partnames:
            number += 1
        name = template % number
        self.used_partnames.add(name.lower())
        return PackURI(name)

    def source(self, path: str) -> Presentation:
        if path not in self.sources:
            try:
                self.sources[path] = Presentation(path)
            except (BadZipFile, PackageNotFoundError, KeyError, ValueError, etree.XMLSyntaxError) as error:
                raise DeckAssemblyError(
                    f"{os.path.basename(path)} is not a PowerPoint file that can be read ({error})."
                ) from None
            self.copied[path] = {}
            presentation = self.sources[path]
            self.fits[path] = self._fit_between((presentation.slide_width, presentation.slide_height), presentation)
        return self.sources[path]

    def _fitted(self, source_path: str, copy: Part) -> None:
        """Fit a copied part's XML to the deck's size when its deck has another size."""
        fit = self.fits.get(source_path)
        if fit is None:
            return
        content_type = copy.content_type
        if content_type.endswith(SLIDE_LIKE):
            fit_slide_part(copy._element, fit, is_master=content_type.endswith("slideMaster+xml"))
        elif content_type.endswith(CHART) and isinstance(copy, XmlPart):
            fit_chart_part(copy._element, fit)
        elif content_type.endswith(DIAGRAM_DRAWING):
            root = etree.fromstring(copy.blob)
            fit_diagram_drawing(root, fit)
            copy._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)

    # --- copying parts -----------------------------------------------------------------

    def _copy_part(self, source_path: str, part: Part, *, owner_slide: Part | None = None) -> Part:
        memo = self.copied[source_path]
        key = str(part.partname)
        if key in memo:
            return memo[key]
        blob = part.blob
        shareable = part.content_type.startswith(SHAREABLE_MEDIA) and not part.rels
        if shareable:
            digest = _digest(blob, part.content_type.encode())
            shared = self.binary_by_digest.get(digest)
            if shared is not None:
                memo[key] = shared
                return shared
        copy = PartFactory(self._next_partname(_template(key)), part.content_type, self.package, blob)
        self._fitted(source_path, copy)
        memo[key] = copy  # before the relationships: part graphs have cycles (master <-> layout)
        if shareable:
            self.binary_by_digest[_digest(blob, part.content_type.encode())] = copy
        for rel in part.rels.values():
            self._copy_relationship(source_path, rel, copy, owner_slide)
        return copy

    def _copy_relationship(self, source_path: str, rel: _Relationship, copy: Part, owner_slide: Part | None) -> None:
        if rel.is_external:
            target = rel.target_ref
            mode = RTM.EXTERNAL
        else:
            mode = RTM.INTERNAL
            if rel.reltype == RT.NOTES_MASTER:
                target = self.presentation.part.notes_master_part
            elif rel.reltype == RT.SLIDE and owner_slide is not None:
                # A link to another slide of the source deck (or a notes slide's own
                # slide): it points at this slide in the new deck.
                target = owner_slide
            elif rel.reltype == RT.SLIDE_MASTER and self._is_existing_master(source_path, rel.target_part):
                target = self._existing_master(source_path, rel.target_part)
            else:
                target = self._copy_part(source_path, rel.target_part, owner_slide=owner_slide)
        copy.rels._rels[rel.rId] = _Relationship(copy.partname.baseURI, rel.rId, rel.reltype, mode, target)

    def _is_existing_master(self, source_path: str, master_part: Part) -> bool:
        return self._key(master_part, self.fits.get(source_path)) in self.masters_by_digest

    def _existing_master(self, source_path: str, master_part: Part) -> Part:
        return self.masters_by_digest[self._key(master_part, self.fits.get(source_path))]

    # --- layouts and masters -----------------------------------------------------------

    def _layout_for(self, source_path: str, layout_part: Part) -> Part:
        master_part = layout_part.part_related_by(RT.SLIDE_MASTER)
        digest = self._key(master_part, self.fits.get(source_path))
        existing = self.masters_by_digest.get(digest)
        if existing is not None:
            # An identical master (same layouts, same theme) is already in the deck.
            position = [r.target_part for r in sorted(master_part.rels.values(), key=lambda r: r.rId)
                        if r.reltype == RT.SLIDE_LAYOUT].index(layout_part)
            return [r.target_part for r in sorted(existing.rels.values(), key=lambda r: r.rId)
                    if r.reltype == RT.SLIDE_LAYOUT][position]
        new_master = self._copy_part(source_path, master_part)
        self.masters_by_digest[digest] = new_master
        self._register_master(new_master)
        return self.copied[source_path][str(layout_part.partname)]

    def _register_master(self, master_part: Part) -> None:
        rId = self.presentation.part.relate_to(master_part, RT.SLIDE_MASTER)
        presentation_xml = self.presentation.part._element
        used = {int(e.get("id")) for e in presentation_xml.iter(f"{{{P_NS}}}sldMasterId")}
        for master in self.presentation.slide_masters:
            if master.part is not master_part:
                used.update(int(e.get("id")) for e in master.part._element.iter(f"{{{P_NS}}}sldLayoutId"))
        next_id = max(used | {FIRST_MASTER_ID - 1}) + 1
        master_list = presentation_xml.get_or_add_sldMasterIdLst()
        entry = etree.SubElement(master_list, f"{{{P_NS}}}sldMasterId")
        entry.set("id", str(next_id))
        entry.set(f"{{{R_NS}}}id", rId)
        # Layout ids share the id space with master ids across the whole file.
        for layout_id in master_part._element.iter(f"{{{P_NS}}}sldLayoutId"):
            next_id += 1
            layout_id.set("id", str(next_id))

    # --- slides ------------------------------------------------------------------------

    def add_slide(self, ref: SlideRef) -> None:
        source = self.source(ref.source)
        slides = source.slides
        if not 1 <= ref.slide_number <= len(slides):
            raise DeckAssemblyError(
                f"Slide {ref.slide_number} does not exist in {os.path.basename(ref.source)} "
                f"({len(slides)} slides)."
            )
        slide_part = slides[ref.slide_number - 1].part
        where = f"slide {ref.slide_number} of {os.path.basename(ref.source)}"
        try:
            layout_part = slide_part.part_related_by(RT.SLIDE_LAYOUT)
            layout_part.part_related_by(RT.SLIDE_MASTER).part_related_by(RT.THEME)
        except KeyError:
            raise DeckAssemblyError(f"The layout or master of {where} is missing, so it cannot be copied "
                                    "faithfully; open the deck in PowerPoint, save it again and upload it.") from None
        try:
            new_layout = self._layout_for(ref.source, layout_part)
        except (ValueError, KeyError) as error:
            raise DeckAssemblyError(f"The layout of {where} is broken ({error}); open the deck in PowerPoint, "
                                    "save it again and upload it.") from None
        new_slide = PartFactory(self._next_partname("/ppt/slides/slide%d.xml"), slide_part.content_type,
                                self.package, slide_part.blob)
        self._fitted(ref.source, new_slide)
        # A slide hidden in its source deck was picked on purpose: keep it from vanishing
        # when the rep presents the new deck.
        new_slide._element.attrib.pop("show", None)
        # Charts, notes and other per-slide parts are copied for every use of the slide,
        # so two copies of one slide never share an embedded workbook.
        per_slide_memo = {k: v for k, v in self.copied[ref.source].items() if self._shared_part(v)}
        saved, self.copied[ref.source] = self.copied[ref.source], per_slide_memo
        try:
            for rel in slide_part.rels.values():
                if rel.reltype == RT.SLIDE_LAYOUT:
                    new_slide.rels._rels[rel.rId] = _Relationship(
                        new_slide.partname.baseURI, rel.rId, rel.reltype, RTM.INTERNAL, new_layout)
                else:
                    self._copy_relationship(ref.source, rel, new_slide, new_slide)
        finally:
            saved.update({k: v for k, v in self.copied[ref.source].items() if self._shared_part(v)})
            self.copied[ref.source] = saved
        rId = self.presentation.part.relate_to(new_slide, RT.SLIDE)
        self.presentation.slides._sldIdLst._add_sldId(id=self.presentation.slides._sldIdLst._next_id, rId=rId)

    def _shared_part(self, part: Part) -> bool:
        """Masters, layouts, themes and plain binaries may be shared; the rest is per slide."""
        content_type = part.content_type
        return (content_type.endswith(("slideMaster+xml", "slideLayout+xml", "theme+xml"))
                or content_type.startswith(SHAREABLE_MEDIA))

    def save(self, out_path: str) -> None:
        self.presentation.save(out_path)


def build_deck(slides: Sequence[SlideRef], out_path: str,
               on_progress: Callable[[int, int], None] | None = None,
               size: tuple[int, int] | None = None) -> None:
    """Write one .pptx with exactly these slides, in this order (in this process).

    The deck's slide size is `size` (width, height in EMU), or the first slide's
    deck's; slides of another size are fitted (assets/slide_fit.py)."""
    if not slides:
        raise DeckAssemblyError("A deck needs at least one slide.")
    directory = os.path.dirname(os.path.abspath(out_path))
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".pptx.part")
    os.close(handle)
    try:
        try:
            assembler = _Assembler(slides[0].source, size)
        except (BadZipFile, PackageNotFoundError, KeyError, ValueError, etree.XMLSyntaxError) as error:
            raise DeckAssemblyError(
                f"{os.path.basename(slides[0].source)} is not a PowerPoint file that can be read ({error})."
            ) from None
        for number, ref in enumerate(slides, start=1):
            assembler.add_slide(ref)
            if on_progress:
                on_progress(number, len(slides))
        assembler.save(temporary)
        os.replace(temporary, out_path)  # no half-written deck is ever left behind
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


# --- measuring before building ----------------------------------------------------------

MEDIA_PREFIX = "/ppt/media/"


class _PackageSizes:
    """A .pptx's part sizes (uncompressed, from the zip directory) and relationships
    (from its .rels parts), without parsing any slide."""

    def __init__(self, path: str):
        try:
            self.zip = zipfile.ZipFile(path)
        except (BadZipFile, OSError) as error:
            raise DeckAssemblyError(f"{os.path.basename(path)} is not a PowerPoint file that can be read "
                                    f"({error}).") from None
        self.name = os.path.basename(path)
        self.sizes = {"/" + info.filename: info.file_size for info in self.zip.infolist()}
        self._rels: dict[str, list[tuple[str, str, str]]] = {}

    def _relationships(self, partname: str) -> list[tuple[str, str, str]]:
        """(id, type, target part name) of a part's internal relationships."""
        if partname not in self._rels:
            directory, name = posixpath.split(partname)
            rels_name = posixpath.join(directory, "_rels", name + ".rels")
            found: list[tuple[str, str, str]] = []
            if rels_name in self.sizes:
                for rel in self._xml(rels_name):
                    target = rel.get("Target") or ""
                    if rel.get("TargetMode") == "External" or not target:
                        continue
                    found.append((rel.get("Id") or "", rel.get("Type") or "",
                                  posixpath.normpath(posixpath.join(directory, target))))
            self._rels[partname] = found
        return self._rels[partname]

    def _xml(self, partname: str):
        try:
            return etree.fromstring(self.zip.read(partname[1:]))
        except (etree.XMLSyntaxError, BadZipFile, KeyError, ValueError) as error:
            raise DeckAssemblyError(f"{self.name} is not a PowerPoint file that can be read ({error}).") from None

    def rels(self, partname: str) -> list[tuple[str, str]]:
        """(relationship type, target part name) of a part's internal relationships."""
        return [(reltype, target) for _, reltype, target in self._relationships(partname)]

    def presentation_part(self) -> str:
        for reltype, target in self.rels("/"):
            if reltype == RT.OFFICE_DOCUMENT:
                return target
        raise DeckAssemblyError(f"{self.name} is not a PowerPoint file that can be read (no presentation part).")

    def slide_parts(self) -> list[str]:
        """The slides in presentation order."""
        presentation = self.presentation_part()
        targets = {rel_id: target for rel_id, _, target in self._relationships(presentation)}
        ids = (entry.get(f"{{{R_NS}}}id") for entry in self._xml(presentation).iter(f"{{{P_NS}}}sldId"))
        return [targets[rel_id] for rel_id in ids if rel_id in targets]

    def close(self) -> None:
        self.zip.close()


@dataclass
class DeckMeasure:
    total_bytes: int  # what the assembled deck would hold, its parts uncompressed
    slide_bytes: list[int] = field(default_factory=list)  # each slide's own parts (per use)


def measure_deck(slides: Sequence[SlideRef]) -> DeckMeasure:
    """What the assembled deck would hold: the first deck's frame (masters, themes,
    ...) once; per slide its own parts (the slide, notes, charts, embedded files),
    counted for every use, as build_deck copies them; layouts, masters, themes and
    media once per source deck."""
    packages: dict[str, _PackageSizes] = {}
    counted: set[tuple[str, str]] = set()  # shared parts already counted, by (source, part)
    total = 0
    slide_bytes: list[int] = []
    try:
        def package(path: str) -> _PackageSizes:
            if path not in packages:
                packages[path] = _PackageSizes(path)
            return packages[path]

        def shared(source: str, sizes: _PackageSizes, start: str, skip_slides: bool = True) -> int:
            added = 0
            stack = [start]
            while stack:
                part = stack.pop()
                if (source, part) in counted:
                    continue
                counted.add((source, part))
                added += sizes.sizes.get(part, 0)
                stack.extend(target for reltype, target in sizes.rels(part)
                             if not (skip_slides and reltype == RT.SLIDE))
            return added

        if slides:
            first = package(slides[0].source)
            total += shared(slides[0].source, first, "/")  # the package and the presentation
        for ref in slides:
            sizes = package(ref.source)
            parts = sizes.slide_parts()
            if not 1 <= ref.slide_number <= len(parts):
                raise DeckAssemblyError(f"Slide {ref.slide_number} does not exist in {sizes.name} "
                                        f"({len(parts)} slides).")
            own = 0
            seen: set[str] = set()
            stack = [parts[ref.slide_number - 1]]
            while stack:
                part = stack.pop()
                if part in seen:
                    continue
                seen.add(part)
                own += sizes.sizes.get(part, 0)
                for reltype, target in sizes.rels(part):
                    if reltype in (RT.SLIDE, RT.NOTES_MASTER):
                        continue  # the deck's own slide and notes master are used instead
                    if reltype == RT.SLIDE_LAYOUT or target.startswith(MEDIA_PREFIX):
                        total += shared(ref.source, sizes, target)
                    else:
                        stack.append(target)
            slide_bytes.append(own)
            total += own
    finally:
        for sizes in packages.values():
            sizes.close()
    return DeckMeasure(total, slide_bytes)


# --- building in a bounded child process ----------------------------------------------------

@dataclass
class BuildOutcome:
    ok: bool
    size: int | None = None          # bytes of the written file
    code: str | None = None          # too_large, unreadable, timeout, crashed
    error: str | None = None         # a sentence for people
    total_bytes: int | None = None   # when too large: what the deck would hold
    limit_bytes: int | None = None
    slide_bytes: list[int] = field(default_factory=list)


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB" if size >= 10 * 2**20 else f"{size / 2**20:,.1f} MB"


def build_deck_in_child(slides: Sequence[SlideRef], out_path: str, *, max_bytes: int,
                        memory_limit_mb: int = 1536, timeout_seconds: float = 180,
                        on_progress: Callable[[int, int], None] | None = None,
                        size: tuple[int, int] | None = None) -> BuildOutcome:
    """build_deck in a child process bounded in memory, time and size. Never raises for
    a bad or hostile deck: the outcome says why it was not built."""
    if not slides:
        return BuildOutcome(False, code="unreadable", error="A deck needs at least one slide.")
    job = {"slides": [[ref.source, ref.slide_number] for ref in slides], "out": os.path.abspath(out_path),
           "max_bytes": int(max_bytes), "memory_limit_mb": int(memory_limit_mb),
           "size": [int(size[0]), int(size[1])] if size else None}
    reply: dict = {}

    def handle(message: dict) -> None:
        if message.get("t") == "progress":
            if on_progress:
                on_progress(int(message["done"]), int(message["total"]))
        else:
            reply.update(message)

    work_dir = os.path.dirname(os.path.abspath(out_path))
    try:
        outcome = run_child("assets.deck_builder", job, cwd=work_dir, timeout=timeout_seconds, on_message=handle)
    except OSError as error:
        return BuildOutcome(False, code="crashed", error=f"The deck could not be assembled ({error}).")
    return _outcome(reply, outcome, out_path, max_bytes, memory_limit_mb, timeout_seconds)


def _outcome(reply: dict, child: ChildOutcome, out_path: str, max_bytes: int, memory_limit_mb: int,
             timeout: float) -> BuildOutcome:
    kind = reply.get("t")
    if kind == "done" and os.path.exists(out_path):
        return BuildOutcome(True, size=os.path.getsize(out_path))
    if os.path.exists(out_path):  # a child cut off after its rename: never serve it
        os.unlink(out_path)
    if kind == "failed":
        return BuildOutcome(False, code=reply.get("code") or "unreadable", error=reply.get("error"),
                            total_bytes=reply.get("total_bytes"), limit_bytes=reply.get("limit_bytes"),
                            slide_bytes=list(reply.get("slide_bytes") or []))
    if child.timed_out:
        return BuildOutcome(False, code="timeout",
                            error=f"Assembling the deck took longer than {timeout:g} s, so it was stopped; "
                                  "the deck is too large or its slides too complex. Remove some slides.")
    if child.out_of_memory:
        return BuildOutcome(False, code="too_large", limit_bytes=max_bytes,
                            error=f"The deck is too large: assembling it needed more memory than allowed "
                                  f"({memory_limit_mb} MB). Remove some slides or split it into several decks.")
    return BuildOutcome(False, code="crashed",
                        error=f"Assembling the deck stopped unexpectedly (exit status {child.returncode}).")


def _child(fd: int, job: dict) -> int:
    channel = child_setup(job, fd)
    send = channel.send
    max_bytes = int(job["max_bytes"])
    slides = [SlideRef(path, int(number)) for path, number in job["slides"]]
    too_large = (f"The deck is too large: assembling it needed more memory than allowed "
                 f"({job['memory_limit_mb']} MB). Remove some slides or split it into several decks.")
    try:
        measure = measure_deck(slides)
        if measure.total_bytes > max_bytes:
            send(t="failed", code="too_large", total_bytes=measure.total_bytes, limit_bytes=max_bytes,
                 slide_bytes=measure.slide_bytes,
                 error=f"The deck is too large: it would hold {_mb(measure.total_bytes)} once assembled, "
                       f"more than the {_mb(max_bytes)} a deck may hold. Remove some slides or split "
                       "it into several decks.")
            return 0
        # The written file may not outgrow the limit either (the zip is smaller than its
        # parts, so only a mismeasured deck meets this); writing past it fails with EFBIG.
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes + 2**20, resource.RLIM_INFINITY))
        build_deck(slides, job["out"], on_progress=lambda done, total: send(t="progress", done=done, total=total),
                   size=tuple(job["size"]) if job.get("size") else None)
    except DeckAssemblyError as error:
        send(t="failed", code="unreadable", error=str(error))
    except MemoryError:
        send(t="failed", code="too_large", limit_bytes=max_bytes, error=too_large)
    except etree.XMLSyntaxError as error:
        # Sources were parsed when loaded (a bad one is a DeckAssemblyError); copies are
        # parsed from XML serialized here, so this is libxml2 failing to allocate.
        if "memory" in str(error).lower() or "unknown error" in str(error).lower():
            send(t="failed", code="too_large", limit_bytes=max_bytes, error=too_large)
        else:
            send(t="failed", code="unreadable", error=f"A slide's file could not be read ({error}).")
    except OSError as error:
        if error.errno == errno.EFBIG:
            send(t="failed", code="too_large", limit_bytes=max_bytes,
                 error=f"The deck is too large: the assembled file grew past {_mb(max_bytes)}. "
                       "Remove some slides or split it into several decks.")
        else:
            send(t="failed", code="unreadable", error=f"The deck could not be assembled ({error}).")
    except Exception as error:  # the last line of defence: a reason, never a traceback
        import traceback

        traceback.print_exc()
        send(t="failed", code="unreadable",
             error=f"The deck could not be assembled ({error.__class__.__name__}).")
    else:
        send(t="done")
    channel.close()
    return 0


if __name__ == "__main__":
    sys.exit(_child(int(sys.argv[1]), json.loads(sys.argv[2])))
