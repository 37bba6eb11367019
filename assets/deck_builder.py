"""Assembling one .pptx from slides of other decks, each keeping its own look.

python-pptx has no "copy slide" operation, so this works at the package
level: the result starts as the first slide's deck with its slides dropped
(so the slide size and the first theme come from there), then each chosen
slide's part graph is copied in: the slide, its layout, master and theme
(reused when an identical master is already in the result), pictures, media,
charts with their own embedded workbooks, diagrams, and the notes slide.
Relationship ids are kept, so the copied XML stays valid as it is.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from zipfile import BadZipFile

from lxml import etree
from pptx import Presentation
from pptx.exc import PackageNotFoundError
from pptx.opc.constants import RELATIONSHIP_TARGET_MODE as RTM
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.opc.package import Part, PartFactory, _Relationship
from pptx.opc.packuri import PackURI

P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
FIRST_MASTER_ID = 2147483648  # ECMA-376: sldMasterId and sldLayoutId values start here
# Pictures and media may be shared between slides (identical bytes, read-only);
# embedded workbooks and everything else are copied for each slide.
SHAREABLE_MEDIA = ("image/", "video/", "audio/")


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


class _Assembler:
    def __init__(self, base_path: str):
        self.presentation = Presentation(base_path)
        self.package = self.presentation.part.package
        self._drop_all_slides()
        self.used_partnames = {str(p.partname).lower() for p in self.package.iter_parts()}
        self.sources: dict[str, Presentation] = {}
        # Per source deck: copied parts, so its slides share one master copy and one copy of each image.
        self.copied: dict[str, dict[str, Part]] = {}
        self.masters_by_digest = {self._master_digest(m.part): m.part for m in self.presentation.slide_masters}
        self.binary_by_digest: dict[str, Part] = {}

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
        return self.sources[path]

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
        return self._master_digest(master_part) in self.masters_by_digest

    def _existing_master(self, source_path: str, master_part: Part) -> Part:
        return self.masters_by_digest[self._master_digest(master_part)]

    # --- layouts and masters -----------------------------------------------------------

    def _layout_for(self, source_path: str, layout_part: Part) -> Part:
        master_part = layout_part.part_related_by(RT.SLIDE_MASTER)
        digest = self._master_digest(master_part)
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
        layout_part = slide_part.part_related_by(RT.SLIDE_LAYOUT)
        new_layout = self._layout_for(ref.source, layout_part)
        new_slide = PartFactory(self._next_partname("/ppt/slides/slide%d.xml"), slide_part.content_type,
                                self.package, slide_part.blob)
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


def build_deck(slides: Sequence[SlideRef], out_path: str) -> None:
    """Write one .pptx with exactly these slides, in this order."""
    if not slides:
        raise DeckAssemblyError("A deck needs at least one slide.")
    directory = os.path.dirname(os.path.abspath(out_path))
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=".pptx.part")
    os.close(handle)
    try:
        try:
            assembler = _Assembler(slides[0].source)
        except (BadZipFile, PackageNotFoundError, KeyError, ValueError, etree.XMLSyntaxError) as error:
            raise DeckAssemblyError(
                f"{os.path.basename(slides[0].source)} is not a PowerPoint file that can be read ({error})."
            ) from None
        for ref in slides:
            assembler.add_slide(ref)
        assembler.save(temporary)
        os.replace(temporary, out_path)  # no half-written deck is ever left behind
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
