#!/usr/bin/python3
"""Builds the data files of the vm conformance programs and the values that
scenarios/programs/vm/MANIFEST.toml expects from them.

    make_data.py OUTDIR       write sample.txt, small.txt, large.txt and zeros
                              into OUTDIR (created if missing)
    make_data.py --expected   print the derived values (checksums, sizes)

check_manifest.py checks MANIFEST.toml against these values.

Nothing here is committed output: the files are generated at build time from
the definitions in scenarios/programs/vm/textdata.h (the sample text, the
generated-text line format and the file sizes), so the C programs and the
files cannot drift apart. The checksum, RC4 and shuffle code mirrors
scenarios/programs/vm/checksum.h and the userlib's random.c (splitmix64).
"""
import ast
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from oracles.cksum import cksum  # noqa: E402  (POSIX cksum, shared with the oracles)

VM_DIR = Path(__file__).resolve().parent.parent / "programs" / "vm"
TEXTDATA_H = VM_DIR / "textdata.h"
PAGE = 4096
MASK64 = (1 << 64) - 1


class DataError(Exception):
    """textdata.h is not what this script expects."""


def read_textdata(path=TEXTDATA_H):
    """Returns (defines, sample_bytes) parsed from textdata.h."""
    text = path.read_text()
    defines = {}
    for name, value in re.findall(r"^#define (\w+) (.+)$", text, re.M):
        value = value.strip()
        if re.fullmatch(r"\d+", value):
            defines[name] = int(value)
        elif re.fullmatch(r'"(?:[^"\\]|\\.)*"', value):
            defines[name] = ast.literal_eval(value).encode()
    block = re.search(r"/\* BEGIN sample.txt \*/\n(.*?)/\* END sample.txt \*/",
                      text, re.S)
    if block is None:
        raise DataError(f"{path}: no BEGIN/END sample.txt markers")
    sample = b""
    for lineno, line in enumerate(block.group(1).splitlines(), 1):
        line = line.strip()
        if not re.fullmatch(r'"(?:[^"\\]|\\[n"\\])*"', line):
            raise DataError(f"{path}: sample line {lineno} is not one plain "
                            f"string literal: {line!r}")
        sample += ast.literal_eval(line).encode()
    for key in ("TEXT_LINE_LEN", "TEXT_FILLER", "SMALL_TXT_SIZE",
                "LARGE_TXT_SIZE", "ZEROS_SIZE"):
        if key not in defines:
            raise DataError(f"{path}: #define {key} missing")
    return defines, sample


def text_line(tag, k, defines):
    """Line K of the generated file tagged TAG (see textdata.h)."""
    filler = defines["TEXT_FILLER"]
    head = f"{tag} #{k % 10**7:07d} ".encode()
    body_len = defines["TEXT_LINE_LEN"] - len(head) - 1
    body = bytes(filler[(k * 13 + j) % len(filler)] for j in range(body_len))
    return head + body + b"\n"


def text_file(tag, size, defines):
    """The first SIZE bytes of the generated file tagged TAG."""
    line_len = defines["TEXT_LINE_LEN"]
    lines = (size + line_len - 1) // line_len
    return b"".join(text_line(tag, k, defines) for k in range(lines))[:size]


def data_files(defines, sample):
    """Name -> contents of every data file."""
    return {
        "sample.txt": sample,
        "small.txt": text_file("small", defines["SMALL_TXT_SIZE"], defines),
        "large.txt": text_file("large", defines["LARGE_TXT_SIZE"], defines),
        "zeros": bytes(defines["ZEROS_SIZE"]),
    }


def rc4_keystream(key, n):
    """The first N bytes of RC4's keystream for KEY (as checksum.h)."""
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    out = bytearray(n)
    i = j = 0
    for x in range(n):
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out[x] = s[(s[i] + s[j]) & 0xFF]
    return bytes(out)


class SplitMix64:
    """The userlib's random_init/random_ulong (scenarios/userlib/random.c)."""

    GAMMA = 0x9E3779B97F4A7C15

    def __init__(self, seed):
        self.state = (seed * self.GAMMA + 1) & MASK64

    def next(self):
        self.state = (self.state + self.GAMMA) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)


def shuffle_cksums(size=128 * 1024, rounds=10):
    """cksums printed by page-shuffle / mmap-shuffle: initial, then one per
    round (checksum.h's shuffle_bytes after random_init(0))."""
    buf = bytearray(i & 0xFF for i in range(size))
    rng = SplitMix64(0)
    sums = [cksum(buf)]
    for _ in range(rounds):
        for i in range(size, 1, -1):
            j = rng.next() % i
            buf[i - 1], buf[j] = buf[j], buf[i - 1]
        sums.append(cksum(buf))
    return sums


def expected_values():
    """Every value MANIFEST.toml derives from the data or the algorithms."""
    defines, sample = read_textdata()
    files = data_files(defines, sample)
    clean_text = b"Overwritten by write(), not through the mapping."
    large_off = bytearray(files["large.txt"])
    large_off[0x1000:0x2000] = bytes(PAGE)
    values = {
        "sample_len": len(sample),
        "sample_first_word": int.from_bytes(sample[:4], "little",
                                            signed=True),
        "small_size": len(files["small.txt"]),
        "small_pages": -(-len(files["small.txt"]) // PAGE),
        "pt_grow_stack_cksum": cksum(rc4_keystream(b"foobar", PAGE)),
        "pt_big_stk_obj_cksum": cksum(rc4_keystream(b"foobar", 65536)),
        "shuffle_cksums": shuffle_cksums(),
        "mmap_clean_file": (len(sample),
                            cksum(clean_text + sample[len(clean_text):])),
        "mmap_off_file": (len(large_off), cksum(bytes(large_off))),
    }
    for name, content in files.items():
        values[f"file:{name}"] = (len(content), cksum(content))
    return values


def write_files(outdir):
    defines, sample = read_textdata()
    outdir.mkdir(parents=True, exist_ok=True)
    for name, content in data_files(defines, sample).items():
        path = outdir / name
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)
        print(f"{path}: {len(content)} bytes, cksum {cksum(content)}")


def main(argv):
    try:
        if argv == ["--expected"]:
            for key, value in expected_values().items():
                print(f"{key} = {value}")
            return 0
        if len(argv) == 1 and not argv[0].startswith("-"):
            write_files(Path(argv[0]))
            return 0
    except (DataError, OSError) as e:
        print(f"make_data.py: {e}", file=sys.stderr)
        return 2
    print("usage: make_data.py OUTDIR | --expected",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
