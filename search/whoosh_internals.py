"""Every use search/ makes of Whoosh's private parts, one small function each.

Whoosh's public API reads postings, columns and field lengths one Python call
per document; the bulk readers here go under it, into the whoosh3 codec's
blocks and columns. Those parts are private to the release they were read from,
so this module refuses to load under any other Whoosh version: a new release is
adopted by re-reading each function's "relies on" against its source and
running tests/search (test_matching.py and test_parity.py compare these
readers and the matcher built on them with Whoosh's own).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import whoosh
from whoosh import columns
from whoosh import query as q
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, clean_files
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import EmptyReader, MultiReader, SegmentReader, TermNotFound
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter

WRITTEN_FOR = (2, 7, 5)  # whoosh-reloaded 2.7.5 (whoosh.__version__)

EMPTY_IDS = np.zeros(0, dtype=np.int32)
EMPTY_WEIGHTS = np.zeros(0, dtype=np.float32)
BYTE_TO_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


def require_version(found: tuple, expected: tuple = WRITTEN_FOR) -> None:
    """Refuse a Whoosh release other than the one this module was written for."""
    if tuple(found[:3]) != tuple(expected):
        have, want = ".".join(map(str, found[:3])), ".".join(map(str, expected))
        raise ImportError(
            f"search/whoosh_internals.py was written for Whoosh {want} but Whoosh {have} is "
            f"installed: pin whoosh-reloaded=={want}, or check each function of that module "
            f"against the new release and update WRITTEN_FOR.")


require_version(whoosh.__version__)


def read_postings(reader, fieldname: str, text, with_weights: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A term's local docnums (sorted) and weights in one segment; deletions not removed.

    Relies on: SegmentReader.postings wrapping the codec's matcher in a
    FilterMatcher (`.child`, already moved past deleted documents) when the
    segment has deletions; the whoosh3
    W3LeafMatcher's block walk (`_data` is None until `_read_data()` loads the
    block tuple (id deltas from zero, weights as None / one number / an array,
    values), `_lastblock`, `_goto(_nextoffset)` to the next block)."""
    try:
        matcher = reader.postings(fieldname, text)
    except TermNotFound:  # also for a field this index lacks
        return EMPTY_IDS, EMPTY_WEIGHTS
    if isinstance(matcher, FilterMatcher):  # deletions are removed by the caller
        matcher = matcher.child
        matcher.reset()  # the filter moved it past the deleted documents it starts with
    if not isinstance(matcher, W3LeafMatcher):  # postings inlined in the term info
        ids, weights = [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
        return np.array(ids, dtype=np.int32), np.array(weights, dtype=np.float32)
    id_blocks, weight_blocks = [], []
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        deltas, weights = matcher._data[0], matcher._data[1]
        id_blocks.append(deltas)
        if with_weights:
            count = len(deltas)
            if weights is None:
                weight_blocks.append(np.ones(count, dtype=np.float32))
            elif isinstance(weights, float | int):
                weight_blocks.append(np.full(count, weights, dtype=np.float32))
            else:
                weight_blocks.append(np.array(weights, dtype=np.float32))
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)
    if not id_blocks:
        return EMPTY_IDS, EMPTY_WEIGHTS
    ids = np.concatenate([np.cumsum(np.array(block, dtype=np.int32)) for block in id_blocks])
    weights = np.concatenate(weight_blocks) if with_weights else EMPTY_WEIGHTS
    return ids, weights


def numeric_field_column(reader, fieldname: str) -> np.ndarray:
    """A sortable NUMERIC field's values for every document of a segment.

    Relies on: the column holding the field's values untranslated
    (`translate=False`), signed integers shifted by 2**(bits-1) into unsigned
    order (whoosh.fields.NUMERIC), and on _numeric_column below."""
    field = reader.schema[fieldname]
    raw = _numeric_column(reader.column_reader(fieldname, translate=False), reader.doc_count_all())
    if field.numtype is not int or not field.signed:
        return raw.astype(np.int64)
    # Shift back (unsigned arithmetic wraps, and the cast reads the result as two's complement).
    return (raw - np.uint64(1 << (field.bits - 1))).astype(np.int64)


def field_lengths(reader, fieldname: str) -> np.ndarray:
    """Each document's length of a scorable field in one segment, as BM25F sees
    it (one byte per document, decoded); 1 for every document when the segment
    has no length column for the field.

    Relies on: SegmentReader's per-document reader (`_perdoc`), the whoosh3
    codec's length column (named by `_lenfield`, of type LENGTHS_COLUMN) and
    Whoosh's byte encoding of lengths (whoosh.util.numeric.byte_to_length)."""
    size = reader.doc_count_all()
    perdoc, column = reader._perdoc, _lenfield(fieldname)
    if not perdoc.has_column(column):
        return np.ones(size, dtype=np.float32)
    return BYTE_TO_LENGTH[_numeric_column(perdoc.column_reader(column, LENGTHS_COLUMN), size)]


def _numeric_column(column_reader, doccount: int) -> np.ndarray:
    """A fixed-width numeric column read in one piece (Whoosh reads it one value
    per call): the stored values, then the default for documents past the end.

    Relies on: NumericColumn.Reader's `_count`, `_typecode` (big-endian struct
    code), `_dbfile.get()`, `_basepos` and `_default`."""
    if not isinstance(column_reader, columns.NumericColumn.Reader):
        return np.fromiter(column_reader, dtype=np.uint64, count=doccount)
    count = min(column_reader._count, doccount)
    dtype = np.dtype(">" + column_reader._typecode)
    raw = column_reader._dbfile.get(column_reader._basepos, count * dtype.itemsize) if count else b""
    values = np.frombuffer(raw, dtype=dtype).astype(np.uint64)
    if count < doccount:
        values = np.concatenate([values, np.full(doccount - count, column_reader._default, dtype=np.uint64)])
    return values


def bytes_column(reader, fieldname: str, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """A VarBytesColumn's values for every document of a segment, in one piece:
    (all values one after another as `dtype`, and offsets: document d's values
    are values[offsets[d]:offsets[d + 1]]). The values are a view of the
    segment's memory map when Whoosh mapped it (no copy), else read once.

    Relies on: VarBytesColumn.Reader's `_dbfile`, `_basepos` and `_lengths`
    (values written one after another from `_basepos`, in document order), and
    on whoosh.filedb.structfile.BufferFile keeping its buffer in `_buf`."""
    size = reader.doc_count_all()
    if not reader.has_column(fieldname):
        return np.zeros(0, dtype=dtype), np.zeros(size + 1, dtype=np.int64)
    column_reader = reader.column_reader(fieldname, translate=False)
    if not isinstance(column_reader, columns.VarBytesColumn.Reader):
        raise TypeError(f"{fieldname} is not a VarBytesColumn")
    lengths = np.array(column_reader._lengths, dtype=np.int64)[:size]
    offsets = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:len(lengths) + 1])
    offsets[len(lengths) + 1:] = offsets[len(lengths)]
    if offsets[-1] % dtype.itemsize:
        raise ValueError(f"{fieldname}: values are not whole {dtype}")
    dbfile, start, end = column_reader._dbfile, column_reader._basepos, column_reader._basepos + int(offsets[-1])
    buffer = getattr(dbfile, "_buf", None)
    raw = buffer[start:end] if isinstance(buffer, memoryview) else dbfile.get(start, end - start)
    return np.frombuffer(raw, dtype=dtype), offsets // dtype.itemsize


def prefix_expansions(query: q.Prefix, reader) -> Iterable[bytes]:
    """The indexed terms a prefix query stands for in one segment, in order.

    Relies on: MultiTerm._btexts(reader), the generator Whoosh's own matcher uses."""
    return query._btexts(reader)


def is_null_query(query: q.Query) -> bool:
    """True for Whoosh's "matches nothing" query.

    Relies on: q.NullQuery being an instance of a private class (_NullQuery),
    of which parsing and normalising may return other instances."""
    return query is q.NullQuery or isinstance(query, q.NullQuery.__class__)


def last_commit(ix) -> tuple[int, list]:
    """(generation, segments) of an index's last commit.

    Relies on: FileIndex._read_toc() returning the TOC (`generation`, `segments`)."""
    toc = ix._read_toc()
    return toc.generation, list(toc.segments)


def searcher_reusing(ix, previous):
    """A searcher on the index's last commit that keeps the segment readers of
    `previous` (a searcher nobody else uses, never to be used again) for the
    segments still there, with their deletions as of that commit; only the
    segments new since are opened. Reopening every segment after each commit
    read each one's term table and columns again: 10 ms of CPU per segment.

    Relies on: SegmentReader and its whoosh3 per-document reader reading a
    segment's deletions (and live count) from the Segment object they keep in
    `_segment` (the TOC's, unpickled per commit), cached only by the
    `deleted_docs_set` cached_property, and the reader's generation from `_gen`; MultiReader(readers, generation); Searcher(reader, fromindex)
    as FileIndex.searcher() makes it. Whoosh's own refresh() reuses readers but
    keeps their old deletions and adds the segments merged away. When this
    raises, `previous` still owns its readers (the caller closes it)."""
    toc = ix._read_toc()
    reusable = {leaf.segment().segment_id(): leaf for leaf, _ in previous.reader().leaf_readers()
                if leaf.segment() is not None}
    readers, opened = [], []
    try:
        for segment in toc.segments:
            reader = reusable.pop(segment.segment_id(), None)
            if reader is None:
                reader = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
                opened.append(reader)
            else:
                reader._segment = reader._perdoc._segment = segment
                reader._gen = toc.generation
                reader.__dict__.pop("deleted_docs_set", None)  # a cached_property of the old deletions
            readers.append(reader)
    except BaseException:  # the caller closes `previous`, and with it the readers taken from it
        for reader in opened:
            reader.close()
        raise
    for reader in reusable.values():  # segments merged away
        reader.close()
    if not readers:
        reader = EmptyReader(toc.schema)
    elif len(readers) == 1:
        reader = readers[0]
    else:
        reader = MultiReader(readers, generation=toc.generation)
    return Searcher(reader, fromindex=ix)


def delete_by_key(writer, column: str, keys: Iterable[int], segment_keys) -> None:
    """Delete, in the writer's commit, the documents of the committed segments
    whose numeric column `column` holds one of `keys`; `segment_keys(writer,
    segment, column)` gives a segment's column (read once per segment: they never
    change). Whoosh's delete_by_term opens a reader on every segment per write.

    Relies on: SegmentWriter.segments (the last commit's Segment objects, which
    its commit writes back with their deletions, as its delete_document does),
    Segment.delete_document / is_deleted."""
    keys = np.fromiter(keys, dtype=np.int64)
    for segment in writer.segments:
        for docnum in np.flatnonzero(np.isin(segment_keys(writer, segment, column), keys)).tolist():
            if not segment.is_deleted(docnum):
                segment.delete_document(docnum)


def segment_column(writer, segment, column: str) -> np.ndarray:
    """A numeric column of one committed segment of the writer's index (see
    numeric_field_column).

    Relies on: SegmentWriter.storage and .schema."""
    reader = SegmentReader(writer.storage, writer.schema, segment)
    try:
        return numeric_field_column(reader, column)
    finally:
        reader.close()


@dataclass
class MergedSegment:
    """A segment built from others outside the write lock, not yet in the index."""

    segment: object | None  # None: the segments held no live document
    directory: str  # where its file waits
    # Per segment merged (by segment id): its deletions when the merge began,
    # and where each of its live documents went.
    docmaps: dict[str, tuple[frozenset, dict[int, int]]]


def build_merged_segment(ix, segments: list, directory: str) -> MergedSegment:
    """Copy the live documents of `segments` (as of the index's last commit)
    into one new segment in `directory`, without the index's write lock.

    Relies on: SegmentWriter reading only `storage`, `indexname` and
    `_read_toc()` of the index it is given, and taking no lock with `_lk=False`;
    SegmentWriter.add_reader numbering the live documents of each reader in
    order after `docnum`; `_finalize_segment()` (postings flushed, files closed,
    one compound file assembled) and `_tempstorage`; SegmentReader(storage,
    schema, segment) seeing the segment's deletions as they were in that TOC."""
    toc = ix._read_toc()
    docmaps: dict[str, tuple[frozenset, dict[int, int]]] = {}
    if not any(segment.doc_count() for segment in segments):
        for segment in segments:
            docmaps[segment.segment_id()] = (frozenset(segment.deleted_docs()), {})
        return MergedSegment(None, directory, docmaps)
    storage = FileStorage(directory).create()
    shim = SimpleNamespace(storage=storage, indexname=ix.indexname, _read_toc=lambda: toc)
    writer = SegmentWriter(shim, _lk=False)
    try:
        for segment in segments:
            deleted = frozenset(segment.deleted_docs())
            live = [docnum for docnum in range(segment.doc_count_all()) if docnum not in deleted]
            docmaps[segment.segment_id()] = (deleted, {old: writer.docnum + n for n, old in enumerate(live)})
            reader = SegmentReader(ix.storage, toc.schema, segment)
            try:
                writer.add_reader(reader)
            finally:
                reader.close()
        merged = writer._finalize_segment()
    except BaseException:
        writer.cancel()
        raise
    writer._tempstorage.destroy()
    writer.is_closed = True
    return MergedSegment(merged, directory, docmaps)


def swap_in_merged_segment(ix, merged: MergedSegment) -> bool:
    """Replace the merged segments by the merged one in a new commit of the
    index; False (and nothing changed) when one of them is gone meanwhile. The
    caller holds the write lock. Deletions committed since the merge began are
    applied to the merged segment.

    Relies on: the TOC (schema, segments, generation) written by TOC.write and
    the files of segments no TOC names removed by clean_files, as
    SegmentWriter._commit_toc does; Segment.delete_document, list_files."""
    toc = ix._read_toc()
    current = {segment.segment_id(): segment for segment in toc.segments}
    if any(name not in current for name in merged.docmaps):
        return False
    kept = [segment for segment in toc.segments if segment.segment_id() not in merged.docmaps]
    if merged.segment is not None:
        for name, (deleted_then, docmap) in merged.docmaps.items():
            for docnum in set(current[name].deleted_docs()) - deleted_then:
                merged.segment.delete_document(docmap[docnum])
        if merged.segment.doc_count():
            for filename in merged.segment.list_files(FileStorage(merged.directory)):
                os.replace(os.path.join(merged.directory, filename), os.path.join(ix.storage.folder, filename))
            kept.append(merged.segment)
    generation = toc.generation + 1
    TOC(toc.schema, kept, generation).write(ix.storage, ix.indexname)
    clean_files(ix.storage, ix.indexname, generation, kept)
    return True
