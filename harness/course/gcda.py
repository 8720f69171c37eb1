"""The .gcda format of GCC 12 (gcov data files), read, merged and written.

Kernel coverage (harness/course/coverage.py) gets one set of .gcda files per
scenario and adds them up. GCC 12's `gcov-tool merge` works on whole
directories through temporary files; merging in memory here is simpler and
is checked against gcov-tool byte for byte (tests/integration/
test_coverage.py).

A file is little-endian 32-bit words: magic "gcda", version, stamp,
checksum, then records of (tag, length in bytes, payload):
  object summary  runs, sum_max                 (merged: both added)
  function        ident, lineno_checksum, cfg_checksum, or empty when the
                  function belongs to another unit
  arc counters    64-bit counts as (low, high) words; a negative length
                  -8*N and no payload means N counters that are all zero
                                                (merged: added one by one)
and a final zero word (end of file).
Only arc counters (-fprofile-arcs) are supported; value-profile counters
(-fprofile-generate) have other merge rules and are refused.
"""

from __future__ import annotations

import dataclasses
import struct

from harness.errors import HarnessError

MAGIC = 0x67636461               # "gcda"
TAG_FUNCTION = 0x01000000
TAG_ARC_COUNTERS = 0x01A10000    # GCOV_TAG_FOR_COUNTER(GCOV_COUNTER_ARCS)
COUNTER_KINDS = 16               # counter tags are 0x01a10000 + (kind << 17)
TAG_OBJECT_SUMMARY = 0xA1000000
END_OF_FILE = 0
COUNTER_MAX = (1 << 64) - 1


class GcdaError(HarnessError):
    """A .gcda file is malformed, or two files cannot be merged."""


@dataclasses.dataclass
class Record:
    """One record. WORDS: the payload as 32-bit words (function, summary);
    COUNTS: the 64-bit counters of a counter record."""
    tag: int
    words: tuple = ()
    counts: list = dataclasses.field(default_factory=list)

    @property
    def is_counters(self) -> bool:
        offset = self.tag - TAG_ARC_COUNTERS
        return 0 <= offset < COUNTER_KINDS << 17 and offset % (1 << 17) == 0


@dataclasses.dataclass
class Gcda:
    version: int
    stamp: int
    checksum: int
    records: list


def parse(data: bytes, name: str = "gcda") -> Gcda:
    """The records of one .gcda file; GcdaError naming NAME if malformed."""
    if len(data) < 16 or len(data) % 4:
        raise GcdaError(f"{name}: not a .gcda file ({len(data)} bytes)")
    words = struct.unpack(f"<{len(data) // 4}I", data)
    if words[0] != MAGIC:
        raise GcdaError(f"{name}: not a .gcda file (magic {words[0]:#x})")
    records, at = [], 4
    while at < len(words):
        if at == len(words) - 1 and words[at] == END_OF_FILE:
            break
        if at + 2 > len(words):
            raise GcdaError(f"{name}: truncated record header at byte {4 * at}")
        tag, length = words[at], words[at + 1]
        at += 2
        record, at = _parse_record(tag, length, words, at, name)
        records.append(record)
    return Gcda(words[1], words[2], words[3], records)


def _parse_record(tag: int, length: int, words: tuple, at: int, name: str):
    """The record at word AT (after its header) and the index after it."""
    if tag in (TAG_FUNCTION, TAG_OBJECT_SUMMARY):
        n = length // 4
        if length % 4 or at + n > len(words):
            raise GcdaError(f"{name}: bad length {length} of record {tag:#x} at byte {4 * at - 8}")
        return Record(tag, words[at:at + n]), at + n
    record = Record(tag)
    if not record.is_counters:
        raise GcdaError(f"{name}: unknown record tag {tag:#x} at byte {4 * at - 8}")
    if tag != TAG_ARC_COUNTERS:
        raise GcdaError(f"{name}: value-profile counters (tag {tag:#x}) are not supported; "
                        "build with -fprofile-arcs only")
    if length & 0x80000000:             # all zero, no payload
        record.counts = [0] * (((1 << 32) - length) // 8)
        return record, at
    n = length // 8
    if length % 8 or at + 2 * n > len(words):
        raise GcdaError(f"{name}: bad counter length {length} at byte {4 * at - 8}")
    record.counts = [words[i] | words[i + 1] << 32 for i in range(at, at + 2 * n, 2)]
    return record, at + 2 * n


def serialize(gcda: Gcda) -> bytes:
    """The bytes of GCDA, as libgcov writes them."""
    words = [MAGIC, gcda.version, gcda.stamp, gcda.checksum]
    for record in gcda.records:
        if not record.is_counters:
            words += [record.tag, 4 * len(record.words), *record.words]
        elif not any(record.counts):
            words += [record.tag, (-8 * len(record.counts)) & 0xFFFFFFFF]
        else:
            words += [record.tag, 8 * len(record.counts)]
            for count in record.counts:
                words += [count & 0xFFFFFFFF, count >> 32]
    words.append(END_OF_FILE)
    return struct.pack(f"<{len(words)}I", *words)


def merge(a: Gcda, b: Gcda, name: str = "gcda") -> Gcda:
    """A + B: the same unit of the same build run twice. GcdaError if they
    come from different builds or describe different functions."""
    if (a.version, a.stamp, a.checksum) != (b.version, b.stamp, b.checksum):
        raise GcdaError(f"{name}: the two files come from different builds "
                        f"(stamp {a.stamp:#x} vs {b.stamp:#x}); rebuild and start over")
    if len(a.records) != len(b.records):
        raise GcdaError(f"{name}: different record counts ({len(a.records)} vs {len(b.records)})")
    out = []
    for ra, rb in zip(a.records, b.records):
        if ra.tag != rb.tag:
            raise GcdaError(f"{name}: record {len(out)} is {ra.tag:#x} in one file, "
                            f"{rb.tag:#x} in the other")
        out.append(_merge_record(ra, rb, name))
    return Gcda(a.version, a.stamp, a.checksum, out)


def _merge_record(ra: Record, rb: Record, name: str) -> Record:
    if ra.tag == TAG_OBJECT_SUMMARY:
        runs, sum_max = (x + y for x, y in zip(ra.words[:2], rb.words[:2]))
        return Record(ra.tag, (runs & 0xFFFFFFFF, sum_max & 0xFFFFFFFF) + ra.words[2:])
    if ra.tag == TAG_FUNCTION:
        if ra.words != rb.words:
            raise GcdaError(f"{name}: function records differ ({ra.words} vs {rb.words})")
        return Record(ra.tag, ra.words)
    if len(ra.counts) != len(rb.counts):
        raise GcdaError(f"{name}: {len(ra.counts)} vs {len(rb.counts)} arc counters")
    return Record(ra.tag, counts=[min(x + y, COUNTER_MAX) for x, y in zip(ra.counts, rb.counts)])


def max_arc_count(gcda_file: Gcda) -> int:
    return max((max(r.counts, default=0) for r in gcda_file.records if r.is_counters), default=0)


def add_run_summary(gcda_file: Gcda, run_max: int) -> Gcda:
    """GCDA_FILE with an object summary of one run (runs 1, sum_max
    RUN_MAX: the largest arc count of the whole program in that run), as
    libgcov writes it at exit, if it has none. __gcov_info_to_gcda writes
    no summary; with one, merged files count their runs (gcov's "Runs:")."""
    if any(r.tag == TAG_OBJECT_SUMMARY for r in gcda_file.records):
        return gcda_file
    summary = Record(TAG_OBJECT_SUMMARY, (1, min(run_max, 0xFFFFFFFF)))
    return dataclasses.replace(gcda_file, records=[summary, *gcda_file.records])


def merge_bytes(a: bytes, b: bytes, name: str = "gcda") -> bytes:
    """merge() on serialized files."""
    return serialize(merge(parse(a, name), parse(b, name), name))


def arc_counts(data: bytes, name: str = "gcda") -> int:
    """The sum of every arc counter of a file (0: nothing of it ran)."""
    return sum(sum(r.counts) for r in parse(data, name).records if r.is_counters)
