"""harness/adapters/reference/fsimage.py: VMFS images as docs/filesystem.md specifies them."""

import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from harness.adapters.reference import fsimage
from harness.adapters.reference.fsimage import FsImageError

ROOT = Path(__file__).resolve().parents[2]
SECTOR = 512


def make(tmp_path, files, size=64 * 1024, **kw):
    path = tmp_path / "fs.img"
    fsimage.create_image(path, files, size_bytes=size, **kw)
    return path


def superblock(path):
    return struct.unpack_from("<4s6I", path.read_bytes())


def dirent(path, slot):
    raw = path.read_bytes()[SECTOR + 32 * slot:SECTOR + 32 * (slot + 1)]
    name, start, count, length, flags = struct.unpack("<16s4I", raw)
    return name.rstrip(b"\0"), start, count, length, flags


def test_round_trip_keeps_names_sizes_and_bytes(tmp_path):
    files = {"empty": b"", "one": b"x", "sector": bytes(range(256)) * 2,
             "odd": b"\xff" * 513, "prog": bytes(i % 251 for i in range(3000)),
             "a" * 14: b"longest name"}
    path = make(tmp_path, files)
    assert fsimage.list_files(path) == {name: len(data) for name, data in files.items()}
    for name, data in files.items():
        assert fsimage.read_file(path, name) == data


def test_superblock_fields_at_sector_zero(tmp_path):
    path = make(tmp_path, {"f": b"data"}, size=128 * 1024, dir_entries=64)
    magic, version, total, dir_start, dir_sectors, entries, data_start = superblock(path)
    assert path.read_bytes()[:4] == b"VMFS"
    assert (magic, version) == (b"VMFS", 1)
    assert (total, dir_start, dir_sectors, entries, data_start) == (256, 1, 4, 64, 5)
    assert path.stat().st_size == 128 * 1024
    assert path.read_bytes()[28:SECTOR] == bytes(SECTOR - 28)


def test_file_data_is_where_the_directory_says(tmp_path):
    first, second = b"A" * 600, b"second file"
    path = make(tmp_path, {"first": first, "second": second})
    raw = path.read_bytes()
    data_start = superblock(path)[6]
    name, start, count, length, flags = dirent(path, 0)
    assert (name, start, count, length, flags) == (b"first", data_start, 2, 600, 1)
    assert raw[start * SECTOR:start * SECTOR + length] == first
    assert raw[start * SECTOR + length:(start + count) * SECTOR] == bytes(2 * SECTOR - 600)
    name, start2, count2, length2, _ = dirent(path, 1)
    assert (name, start2, count2, length2) == (b"second", start + 2, 1, len(second))
    assert raw[start2 * SECTOR:start2 * SECTOR + length2] == second
    assert dirent(path, 2) == (b"", 0, 0, 0, 0)


def test_empty_file_still_owns_one_sector(tmp_path):
    path = make(tmp_path, {"e1": b"", "e2": b""})
    (_, s1, c1, l1, _), (_, s2, c2, l2, _) = dirent(path, 0), dirent(path, 1)
    assert (c1, l1, c2, l2) == (1, 0, 1, 0)
    assert s2 == s1 + 1


@pytest.mark.parametrize("name", ["", "x" * 15, "has space", "tab\t", "caf\u00e9", "nul\0"])
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(FsImageError, match="file name"):
        make(tmp_path, {name: b"x"})


def test_duplicate_name_is_refused(tmp_path):
    path = make(tmp_path, {"dup": b"1"})
    with pytest.raises(FsImageError, match="already exists"):
        fsimage.add_file(path, "dup", b"2")
    assert fsimage.read_file(path, "dup") == b"1"


def test_file_that_does_not_fit_is_refused(tmp_path):
    size = 32 * 1024  # 64 sectors: 9 for metadata, 55 for data
    make(tmp_path, {"fits": bytes(55 * SECTOR)}, size=size)
    with pytest.raises(FsImageError, match="no room for 56 contiguous sectors"):
        make(tmp_path, {"big": bytes(55 * SECTOR + 1)}, size=size)


def test_directory_full_is_refused(tmp_path):
    files = {f"f{i}": b"" for i in range(64)}
    path = make(tmp_path, files, dir_entries=64)
    assert len(fsimage.list_files(path)) == 64
    with pytest.raises(FsImageError, match="directory is full"):
        fsimage.add_file(path, "one-more", b"")


@pytest.mark.parametrize("size", [0, 1000, -SECTOR])
def test_bad_image_size_is_refused(tmp_path, size):
    with pytest.raises(FsImageError, match="image size"):
        make(tmp_path, {}, size=size)


def test_non_vmfs_files_are_refused(tmp_path):
    junk = tmp_path / "junk.img"
    junk.write_bytes(b"\x55" * 4096)
    with pytest.raises(FsImageError, match="not a VMFS image"):
        fsimage.list_files(junk)
    short = tmp_path / "short.img"
    short.write_bytes(b"VMFS")
    with pytest.raises(FsImageError, match="not a VMFS image"):
        fsimage.list_files(short)
    with pytest.raises(FsImageError, match="cannot read image"):
        fsimage.list_files(tmp_path / "missing.img")


def test_missing_file_is_reported(tmp_path):
    path = make(tmp_path, {"here": b"1"})
    with pytest.raises(FsImageError, match="no file named 'gone'"):
        fsimage.read_file(path, "gone")


def patch_entry(path, slot, **fields):
    name, start, count, length, flags = dirent(path, slot)
    values = dict(name=name, start=start, count=count, length=length, flags=flags)
    values.update(fields)
    raw = bytearray(path.read_bytes())
    raw[SECTOR + 32 * slot:SECTOR + 32 * (slot + 1)] = struct.pack(
        "<16s4I", values["name"], values["start"], values["count"], values["length"], values["flags"])
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("fields, message", [
    (dict(count=3), "sector_count 3 does not match length"),
    (dict(start=2), "outside the data area"),
    (dict(start=127), "outside the data area"),
    (dict(flags=3), "flags"),
    (dict(name=b"a\0b"), "not NUL-padded"),
])
def test_corrupt_entries_are_refused(tmp_path, fields, message):
    path = make(tmp_path, {"a": b"1" * 600, "b": b"2"})
    patch_entry(path, 0, **fields)
    with pytest.raises(FsImageError, match=message):
        fsimage.list_files(path)


def test_overlap_and_duplicate_entries_are_refused(tmp_path):
    path = make(tmp_path, {"a": b"1" * 600, "b": b"2"})
    patch_entry(path, 1, start=dirent(path, 0)[1] + 1)
    with pytest.raises(FsImageError, match="overlap"):
        fsimage.list_files(path)
    path = make(tmp_path, {"a": b"1", "b": b"2"})
    patch_entry(path, 1, name=b"a")
    with pytest.raises(FsImageError, match="appears twice"):
        fsimage.list_files(path)


def test_superblock_larger_than_image_is_refused(tmp_path):
    path = make(tmp_path, {"a": b"1"})
    path.write_bytes(path.read_bytes()[:32 * 1024])
    with pytest.raises(FsImageError, match="exceeds the image"):
        fsimage.list_files(path)


def test_add_file_uses_first_fit_like_the_kernel(tmp_path):
    path = make(tmp_path, {"a": b"a" * 512, "hole": b"h" * 1024, "c": b"c"})
    start_hole = dirent(path, 1)[1]
    patch_entry(path, 1, name=b"", start=0, count=0, length=0, flags=0)  # as the kernel removes
    fsimage.add_file(path, "big", b"B" * 1500)  # 3 sectors: not in the 2-sector hole
    fsimage.add_file(path, "small", b"s" * 700)  # 2 sectors: exactly the hole
    assert dirent(path, 1)[:2] == (b"big", dirent(path, 2)[1] + 1)
    assert dirent(path, 3)[:2] == (b"small", start_hole)
    assert fsimage.read_file(path, "small") == b"s" * 700
    assert fsimage.read_file(path, "big") == b"B" * 1500
    assert fsimage.read_file(path, "c") == b"c"


def test_names_written_by_the_kernel_are_listed_byte_for_byte(tmp_path):
    path = make(tmp_path, {"x": b"data"})
    patch_entry(path, 0, name=b"sp ace\xe9")
    assert fsimage.list_files(path) == {"sp ace\u00e9": 4}
    assert fsimage.read_file(path, "sp ace\u00e9") == b"data"


def test_kernel_constants_match_the_tool():
    filesys_c = (ROOT / "reference_kernel/kernel/filesys.c").read_text()
    magic = int(re.search(r"#define VMFS_MAGIC (0x[0-9a-f]+)u", filesys_c).group(1), 16)
    assert struct.pack("<I", magic) == fsimage.MAGIC
    assert re.search(r"#define VMFS_VERSION (\d+)", filesys_c).group(1) == str(fsimage.VERSION)
    assert int(re.search(r"#define VMFS_MIN_DIR_ENTRIES (\d+)", filesys_c).group(1)) == \
        fsimage.MIN_DIR_ENTRIES
    filesys_h = (ROOT / "reference_kernel/include/kernel/filesys.h").read_text()
    assert int(re.search(r"#define NAME_MAX (\d+)", filesys_h).group(1)) == fsimage.NAME_MAX


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "harness.adapters.reference.fsimage", *map(str, args)],
                          cwd=cwd or ROOT, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(ROOT)})


def test_cli_create_list_extract(tmp_path):
    (tmp_path / "prog").write_bytes(b"\x7fELF" + bytes(1000))
    (tmp_path / "data.txt").write_text("hello\n")
    img = tmp_path / "fs.img"
    r = run_cli("create", img, "--size-kb", 256, tmp_path / "prog", f"{tmp_path / 'data.txt'}=sample.txt")
    assert (r.returncode, r.stderr) == (0, "")
    assert img.stat().st_size == 256 * 1024
    r = run_cli("list", img)
    assert (r.returncode, r.stdout) == (0, "prog 1004\nsample.txt 6\n")
    r = run_cli("extract", img, "sample.txt", tmp_path / "out")
    assert r.returncode == 0 and (tmp_path / "out").read_text() == "hello\n"
    r = run_cli("extract", img, "prog", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "prog").read_bytes()[:4] == b"\x7fELF"


@pytest.mark.parametrize("args, message", [
    (["list", "{tmp}/missing.img"], "cannot read image"),
    (["create", "{tmp}/x.img", "--size-kb", "8", "{tmp}/in=way-too-long-name"], "file name"),
    (["create", "{tmp}/x.img", "--size-kb", "4", "{tmp}/in"], "leaves no room"),
    (["create", "{tmp}/x.img", "--size-kb", "64", "{tmp}/in", "{tmp}/in"], "given twice"),
    (["create", "{tmp}/x.img", "--size-kb", "64", "{tmp}/nope"], "cannot read"),
    (["create", "{tmp}/x.img"], "--size-kb"),
    (["extract", "{tmp}/in", "a"], "not a VMFS image"),
    (["frobnicate"], "invalid choice"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, args, message):
    (tmp_path / "in").write_bytes(b"x" * 600)
    r = run_cli(*[a.format(tmp=tmp_path) for a in args])
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and message in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


# --- The kernel's VMFS code (filesys.c, inode.c, file.c), built for the host
# against a file-backed disk, driven one command per line. This checks that
# kernel and tool agree on the format and pins the kernel's semantics
# (first fit, remove-while-open, writes stop at EOF) without booting QEMU.

KERNEL_DIR = ROOT / "reference_kernel"
KERNEL_SOURCES = ["kernel/filesys.c", "kernel/inode.c", "kernel/file.c", "lib/list.c"]
HOST_DRIVER_C = r"""/* Host driver for the kernel's VMFS code: a file-backed disk 0, trivial
 * locks, and a line-per-command interpreter on stdin. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/synch.h"

typedef int32_t koff_t;
struct file;
void filesys_init(void);
bool filesys_create(const char *, koff_t);
struct file *filesys_open(const char *);
bool filesys_remove(const char *);
void file_close(struct file *);
struct file *file_reopen(struct file *);
struct file *file_duplicate(struct file *);
koff_t file_read(struct file *, void *, koff_t);
koff_t file_write(struct file *, const void *, koff_t);
koff_t file_read_at(struct file *, void *, koff_t, koff_t);
koff_t file_write_at(struct file *, const void *, koff_t, koff_t);
koff_t file_length(struct file *);
void file_seek(struct file *, koff_t);
koff_t file_tell(struct file *);
uint32_t file_inumber(struct file *);

struct disk { FILE *f; uint32_t sectors; long failing; };
static struct disk disk0 = {NULL, 0, -1};
static bool disk_ok(struct disk *d, uint32_t s) {
  return s < d->sectors && (long)s != d->failing &&
         fseek(d->f, (long)s * 512, SEEK_SET) == 0;
}
struct disk *disk_get(int idx) { return idx == 0 && disk0.f ? &disk0 : NULL; }
uint32_t disk_size(const struct disk *d) { return d->sectors; }
bool disk_read(struct disk *d, uint32_t s, void *buf) {
  return disk_ok(d, s) && fread(buf, 512, 1, d->f) == 1;
}
bool disk_write(struct disk *d, uint32_t s, const void *buf) {
  return disk_ok(d, s) && fwrite(buf, 512, 1, d->f) == 1 && fflush(d->f) == 0;
}

void lock_init(struct lock *l) { l->holder = NULL; }
void lock_acquire(struct lock *l) {
  if (l->holder) { printf("BUG: lock acquired twice\n"); exit(4); }
  l->holder = (struct thread *)l;
}
void lock_release(struct lock *l) {
  if (!l->holder) { printf("BUG: lock released but not held\n"); exit(4); }
  l->holder = NULL;
}
bool lock_held_by_current_thread(const struct lock *l) { return l->holder != NULL; }

void debug_panic(const char *file, int line, const char *fn, const char *msg, ...) {
  va_list ap;
  va_start(ap, msg);
  printf("Kernel PANIC at %s:%d in %s(): ", file, line, fn);
  vprintf(msg, ap);
  printf("\n");
  va_end(ap);
  exit(3);
}
size_t strlcpy(char *dst, const char *src, size_t size) {
  size_t n = strlen(src);
  if (size > 0) {
    size_t k = n < size - 1 ? n : size - 1;
    memcpy(dst, src, k);
    dst[k] = '\0';
  }
  return n;
}

static struct file *handles[64];
static int handle_cnt;
static uint8_t buf[1 << 16];

static void print_new_handle(struct file *f) {
  if (!f) { printf("null\n"); return; }
  handles[handle_cnt] = f;
  printf("h%d\n", handle_cnt++);
}
static void print_bytes(koff_t n) {
  printf("%d ", (int)n);
  for (koff_t i = 0; i < n; i++) printf("%02x", buf[i]);
  printf("\n");
}
static koff_t parse_hex(const char *hex) {
  koff_t n = 0;
  for (; hex[0] && hex[1]; hex += 2) sscanf(hex, "%2hhx", &buf[n++]);
  return n;
}

static void run(char *cmd, char *a, char *b, char *c) {
  struct file *h = NULL;
  if (a && a[0] == 'h' && a[1] >= '0' && a[1] <= '9') {
    int idx = atoi(a + 1);
    if (idx >= handle_cnt) { printf("BUG: no handle %s\n", a); exit(4); }
    h = handles[idx];
  }
  if (!strcmp(cmd, "create")) printf("%s\n", filesys_create(a, atoi(b)) ? "true" : "false");
  else if (!strcmp(cmd, "open")) print_new_handle(filesys_open(a));
  else if (!strcmp(cmd, "remove")) printf("%s\n", filesys_remove(a) ? "true" : "false");
  else if (!strcmp(cmd, "close")) { file_close(h); printf("ok\n"); }
  else if (!strcmp(cmd, "reopen")) print_new_handle(file_reopen(h));
  else if (!strcmp(cmd, "dup")) print_new_handle(file_duplicate(h));
  else if (!strcmp(cmd, "read")) print_bytes(file_read(h, buf, atoi(b)));
  else if (!strcmp(cmd, "readat")) print_bytes(file_read_at(h, buf, atoi(c), atoi(b)));
  else if (!strcmp(cmd, "write")) printf("%d\n", (int)file_write(h, buf, parse_hex(b)));
  else if (!strcmp(cmd, "writeat")) printf("%d\n", (int)file_write_at(h, buf, parse_hex(c), atoi(b)));
  else if (!strcmp(cmd, "seek")) { file_seek(h, atoi(b)); printf("ok\n"); }
  else if (!strcmp(cmd, "tell")) printf("%d\n", (int)file_tell(h));
  else if (!strcmp(cmd, "length")) printf("%d\n", (int)file_length(h));
  else if (!strcmp(cmd, "inumber")) printf("%u\n", (unsigned)file_inumber(h));
  else if (!strcmp(cmd, "faildisk")) { disk0.failing = atol(a); printf("ok\n"); }
  else { printf("BUG: unknown command %s\n", cmd); exit(4); }
}

int main(int argc, char **argv) {
  char line[1 << 17];
  if (argc != 2 || !(disk0.f = fopen(argv[1], "r+b"))) return 2;
  fseek(disk0.f, 0, SEEK_END);
  disk0.sectors = (uint32_t)(ftell(disk0.f) / 512);
  setvbuf(stdout, NULL, _IOLBF, 0);
  filesys_init();
  while (fgets(line, sizeof line, stdin)) {
    char *save, *cmd = strtok_r(line, " \n", &save);
    char *a = strtok_r(NULL, " \n", &save), *b = strtok_r(NULL, " \n", &save);
    if (cmd) run(cmd, a, b, strtok_r(NULL, " \n", &save));
  }
  return 0;
}
"""


@pytest.fixture(scope="module")
def vmfs_driver(tmp_path_factory):
    """Path of the host build of the kernel's file system (ASan + UBSan)."""
    out = tmp_path_factory.mktemp("vmfs-host")
    gcc_include = subprocess.run(["gcc", "-print-file-name=include"], capture_output=True,
                                 text=True, check=True).stdout.strip()
    common = ["-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
              "-fsanitize=address,undefined", "-fno-sanitize-recover=all", f"-I{KERNEL_DIR}/include"]
    objects = []
    for src in KERNEL_SOURCES:
        obj = out / (Path(src).stem + ".o")
        subprocess.run(["gcc", *common, "-Wno-unused-parameter", "-ffreestanding", "-nostdinc",
                        "-isystem", gcc_include, "-c", KERNEL_DIR / src, "-o", obj],
                       check=True, timeout=120)
        objects.append(obj)
    (out / "driver.c").write_text(HOST_DRIVER_C)
    subprocess.run(["gcc", *common, out / "driver.c", *objects, "-o", out / "driver"],
                   check=True, timeout=120)
    return out / "driver"


def kernel_fs(driver, image, *commands):
    """Mounts IMAGE with the kernel code, runs COMMANDS, returns the output
    lines (the first is the mount line); fails on a crash or sanitizer error."""
    r = subprocess.run([driver, image], input="".join(c + "\n" for c in commands),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode in (0, 3) and not r.stderr, (r.returncode, r.stdout, r.stderr)
    return r.stdout.splitlines()


def test_kernel_reads_what_the_tool_wrote(tmp_path, vmfs_driver):
    data = bytes(i % 253 for i in range(1300))
    path = make(tmp_path, {"first": b"hello", "prog": data})
    out = kernel_fs(vmfs_driver, path, "open prog", "length h0", "inumber h0", "read h0 2000",
                    "readat h0 1299 5", "open first", "read h1 5", "read h1 5")
    assert out[0] == "filesys: VMFS, 128 sectors, 2 of 128 directory entries in use"
    assert out[1:4] == ["h0", "1300", str(dirent(path, 1)[1])]
    assert out[4] == f"1300 {data.hex()}"
    assert out[5:] == [f"1 {data[-1:].hex()}", "h1", f"5 {b'hello'.hex()}", "0 "]


def test_tool_reads_what_the_kernel_wrote(tmp_path, vmfs_driver):
    path = make(tmp_path, {"old": b"x" * 10})
    out = kernel_fs(vmfs_driver, path, "create new 1000", "open new", "writeat h0 510 414243",
                    "seek h0 998", "write h0 77777777", "tell h0", "create e 0")
    assert out[1:] == ["true", "h0", "3", "ok", "2", "1000", "true"]
    expected = bytearray(1000)
    expected[510:513] = b"ABC"
    expected[998:1000] = b"ww"
    assert fsimage.list_files(path) == {"old": 10, "new": 1000, "e": 0}
    assert fsimage.read_file(path, "new") == bytes(expected)
    assert dirent(path, 1)[1:] == (dirent(path, 0)[1] + 1, 2, 1000, 1)


def test_kernel_allocates_first_fit_like_the_tool(tmp_path, vmfs_driver):
    path = make(tmp_path, {"a": b"a", "hole": bytes(1024), "c": b"c"})
    kernel_fs(vmfs_driver, path, "remove hole", "create big 1500", "create fits 700")
    (tmp_path / "tool").mkdir()
    tool_copy = make(tmp_path / "tool", {"a": b"a", "hole": bytes(1024), "c": b"c"})
    patch_entry(tool_copy, 1, name=b"", start=0, count=0, length=0, flags=0)
    fsimage.add_file(tool_copy, "big", bytes(1500))
    fsimage.add_file(tool_copy, "fits", bytes(700))
    assert path.read_bytes() == tool_copy.read_bytes()


def test_removed_file_lives_until_last_close(tmp_path, vmfs_driver):
    path = make(tmp_path, {"f": b"old data", "g": b"g"})
    old_start = dirent(path, 0)[1]
    out = kernel_fs(vmfs_driver, path, "open f", "dup h0", "remove f", "open f", "remove f",
                    "create f 8", "open f", "inumber h0", "inumber h2",
                    "writeat h0 0 4e4557", "read h1 8", "read h2 8",
                    "close h0", "create x 1", "close h1", "create y 1", "open y", "inumber h3")
    assert out[1:8] == ["h0", "h1", "true", "null", "false", "true", "h2"] or         out[1:8] == ["h0", "h1", "true", "null", "false", "true", "h3"][:7]
    assert out[8] == str(old_start) and out[9] != str(old_start)
    assert out[10:13] == ["3", f"8 {b'NEW data'.hex()}", f"8 {bytes(8).hex()}"]
    assert out[-1] == str(old_start)  # reused only after the last close
    assert fsimage.list_files(path) == {"f": 8, "g": 1, "x": 1, "y": 1}
    assert dirent(path, 2)[1] != old_start


def test_kernel_edges_of_files_and_names(tmp_path, vmfs_driver):
    path = make(tmp_path, {"f": b"0123456789"})
    out = kernel_fs(vmfs_driver, path,
                    "open f", "write h0 " + "ab" * 12, "read h0 4", "seek h0 20", "read h0 4",
                    "seek h0 -5", "read h0 4", "writeat h0 -1 00", "reopen h0", "tell h1",
                    "create " + "n" * 14 + " 1", "create " + "n" * 15 + " 1", "create f 1",
                    "create neg -1", "create huge 100000", "remove nothing")
    assert out[1:] == ["h0", "10", "0 ", "ok", "0 ", "ok", "0 ", "0", "h1", "0",
                       "true", "false", "false", "false", "false", "false"]
    assert fsimage.read_file(path, "f") == b"\xab" * 10


def test_kernel_directory_full(tmp_path, vmfs_driver):
    path = make(tmp_path, {f"f{i}": b"" for i in range(63)}, dir_entries=64)
    out = kernel_fs(vmfs_driver, path, "create last 0", "create more 0")
    assert out[1:] == ["true", "false"]
    assert len(fsimage.list_files(path)) == 64


def test_kernel_disk_error_gives_short_transfer(tmp_path, vmfs_driver):
    path = make(tmp_path, {"f": bytes(range(256)) * 4})
    start = dirent(path, 0)[1]
    out = kernel_fs(vmfs_driver, path, "open f", f"faildisk {start + 1}", "read h0 1024",
                    "writeat h0 500 ffffffffffffffffffffffffffffffff")
    assert out[3] == f"512 {(bytes(range(256)) * 2).hex()}"
    assert out[4] == "12"


@pytest.mark.parametrize("damage, message", [
    (lambda raw: raw[:1] + b"X" + raw[2:], "bad magic"),
    (lambda raw: raw[:4] + struct.pack("<I", 2) + raw[8:], "unsupported version"),
    (lambda raw: raw[:8] + struct.pack("<I", 10**6) + raw[12:], "total_sectors exceeds the disk"),
    (lambda raw: raw[:SECTOR + 52] + struct.pack("<I", 2) + raw[SECTOR + 56:], "entry 1: sector_count"),
])
def test_kernel_refuses_a_bad_disk_with_a_panic(tmp_path, vmfs_driver, damage, message):
    path = make(tmp_path, {"a": b"a", "b": b"b"})
    path.write_bytes(damage(path.read_bytes()))
    out = kernel_fs(vmfs_driver, path)
    assert len(out) == 1 and "filesys_init: disk 0 is not a valid VMFS disk" in out[0], out
    assert message in out[0]
