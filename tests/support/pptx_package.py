"""Checks that a .pptx package is well formed: what PowerPoint's repair
prompt complains about (dangling relationships, duplicate part names,
missing content types, broken id lists). The deck-assembly tests and
bench/bench_decks.py judge assembled decks with it."""

from __future__ import annotations

import posixpath
import zipfile
from collections import Counter

from lxml import etree

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
P_NS = "http://schemas.openxmlformats.org/presentationml/2006/main"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
FIRST_MASTER_ID = 2147483648


def _rels_name(part: str) -> str:
    directory, name = posixpath.split(part)
    return posixpath.join(directory, "_rels", name + ".rels")


def _targets(archive: zipfile.ZipFile, part: str, names: set[str], problems: list[str]) -> dict[str, str]:
    """rId -> internal target part name of `part`'s relationships."""
    rels_name = _rels_name(part)
    if rels_name not in names:
        return {}
    targets = {}
    for rel in etree.fromstring(archive.read(rels_name)).iter(f"{{{REL_NS}}}Relationship"):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target")
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join(posixpath.dirname(part), target))
        if resolved not in names:
            problems.append(f"{rels_name}: {rel.get('Id')} points at missing part {resolved}")
        targets[rel.get("Id")] = resolved
    return targets


def validate_package(path: str) -> list[str]:
    problems: list[str] = []
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        return [f"not a ZIP package: {error}"]
    with archive:
        all_names = archive.namelist()
        duplicates = [n for n, c in Counter(n.lower() for n in all_names).items() if c > 1]
        problems.extend(f"duplicate part name: {n}" for n in duplicates)
        names = set(all_names)
        if "[Content_Types].xml" not in names:
            return [*problems, "no [Content_Types].xml"]
        types = etree.fromstring(archive.read("[Content_Types].xml"))
        defaults = {e.get("Extension").lower() for e in types.iter(f"{{{CT_NS}}}Default")}
        overrides = {e.get("PartName").lstrip("/").lower() for e in types.iter(f"{{{CT_NS}}}Override")}
        for name in all_names:
            if name.endswith("/") or name == "[Content_Types].xml":
                continue
            extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if name.lower() not in overrides and extension not in defaults:
                problems.append(f"no content type for {name}")
            if name.endswith((".xml", ".rels")):
                try:
                    etree.fromstring(archive.read(name))
                except etree.XMLSyntaxError as error:
                    problems.append(f"{name} is not well-formed XML: {error}")
        for override in overrides:
            if override not in {n.lower() for n in names}:
                problems.append(f"content type override for missing part /{override}")
        for name in all_names:
            if not name.endswith(".rels") and not name.endswith("/"):
                _targets(archive, name, names, problems)

        presentation = "ppt/presentation.xml"
        if presentation not in names:
            return [*problems, "no ppt/presentation.xml"]
        root = etree.fromstring(archive.read(presentation))
        targets = _targets(archive, presentation, names, [])
        seen_ids: list[int] = []
        for kind in ("sldMasterId", "sldId"):
            for entry in root.iter(f"{{{P_NS}}}{kind}"):
                if entry.get(R_ID) not in targets:
                    problems.append(f"presentation.xml: {kind} {entry.get('id')} has no relationship")
                value = int(entry.get("id"))
                if kind == "sldId" and not 256 <= value < FIRST_MASTER_ID:
                    problems.append(f"slide id {value} out of range")
                if kind == "sldMasterId":
                    seen_ids.append(value)
        slide_ids = [int(e.get("id")) for e in root.iter(f"{{{P_NS}}}sldId")]
        if len(slide_ids) != len(set(slide_ids)):
            problems.append("duplicate slide ids")
        for entry in root.iter(f"{{{P_NS}}}sldMasterId"):
            master = targets.get(entry.get(R_ID))
            if master not in names:
                continue
            master_targets = _targets(archive, master, names, [])
            for layout in etree.fromstring(archive.read(master)).iter(f"{{{P_NS}}}sldLayoutId"):
                seen_ids.append(int(layout.get("id")))
                if layout.get(R_ID) not in master_targets:
                    problems.append(f"{master}: layout {layout.get('id')} has no relationship")
        if any(v < FIRST_MASTER_ID for v in seen_ids):
            problems.append("a master or layout id is below 2147483648")
        if len(seen_ids) != len(set(seen_ids)):
            problems.append("master and layout ids are not unique")
    return problems
