"""Kernels-in-miniature for the Pintos-KAIST SPT tests: a C file with
Pintos-style types (struct thread, page, frame, hash, list, bitmap, palloc
pools, TSS, disks, swap map) compiled with gcc -g in several layouts, and a
fake guest memory that lays out Pintos structures through their DWARF
offsets, with page tables to match."""

from __future__ import annotations

import subprocess
from pathlib import Path

from elftools.elf.elffile import ELFFile

from harness.adapters.base import PINTOS_KAIST_LAYOUT as LAYOUT
from harness.adapters.pintos_kaist.inspector import THREAD_MAGIC
from harness.debug.dwarf_types import DwarfTypes
from harness.debug.rsp import RspMemoryError
from oracles.model.page_tables import PTE_P, PTE_U, PTE_W, PageMapping, make_snapshot

KERN_BASE = LAYOUT.kern_base
PAGE = 4096
SOURCE = r"""
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
struct list_elem { struct list_elem *prev, *next; };
struct list { struct list_elem head, tail; };
struct hash_elem { struct list_elem list_elem; };
struct hash { size_t elem_cnt; size_t bucket_cnt; struct list *buckets;
              void *hash; void *less; void *aux; };
enum vm_type { VM_UNINIT = 0, VM_ANON = 1, VM_FILE = 2, VM_PAGE_CACHE = 3,
               VM_MARKER_0 = (1 << 3) };
struct page;
struct page_operations { bool (*swap_in) (struct page *, void *);
                         bool (*swap_out) (struct page *);
                         void (*destroy) (struct page *); enum vm_type type; };
struct frame { FRAME_MEMBERS };
struct uninit_page { void *init; enum vm_type type; void *aux; };
struct anon_page { ANON_MEMBERS };
struct file_page { void *file; long ofs; };
struct page {
  PAGE_HEAD
  PAGE_MEMBERS
  union { struct uninit_page uninit; struct anon_page anon; struct file_page file; };
};
struct supplemental_page_table { SPT_MEMBERS };
enum thread_status { THREAD_RUNNING, THREAD_READY, THREAD_BLOCKED, THREAD_DYING };
struct thread {
  int tid; enum thread_status status; char name[16]; int priority;
  struct list_elem elem; struct list donations; struct list children;
  uint64_t *pml4;
  struct supplemental_page_table spt;
  unsigned magic;
};
struct task_state { uint32_t res1; uint64_t rsp0; uint64_t rsp1; } __attribute__ ((packed));
struct lock { void *holder; int value; };
struct bitmap { size_t bit_cnt; unsigned long *bits; };
struct pool { struct lock lock; struct bitmap *used_map; uint8_t *base; };
typedef uint32_t disk_sector_t;
struct channel;
struct disk { char name[8]; struct channel *channel; int dev_no; bool is_ata;
              disk_sector_t capacity; long read_cnt, write_cnt; };
struct channel { char name[8]; uint16_t reg_base; uint8_t irq; struct lock lock;
                 bool expecting_interrupt; struct disk devices[2]; };
__attribute__((used)) static struct channel channels[2];
__attribute__((used)) static struct pool kernel_pool, user_pool;
__attribute__((used)) struct task_state *tss;
__attribute__((used)) struct thread *a_thread;
__attribute__((used)) struct page *a_page;
SWAP_GLOBALS
void _start (void) { }
"""
HEAD = "const struct page_operations *operations; void *va; struct frame *frame;"
FRAME = "void *kva; struct page *page; struct list_elem frame_elem;"
SLOT_MAP = ("size_t slot_no;", "__attribute__((used)) struct bitmap *swap_table;")
# name: (page head, page members, frame members, SPT members, anon_page members, swap globals)
LAYOUTS = {
    "hash": (HEAD, "struct hash_elem spt_elem; bool writable;", FRAME, "struct hash pages;",
             *SLOT_MAP),
    "list": (HEAD, "struct list_elem mmap_elem; struct list_elem spt_elem; bool writable;",
             FRAME, "struct list pages;", "size_t swap_num; bool on_disk; int swap_idx;",
             "__attribute__((used)) struct swap_table { struct lock lock; "
             "struct bitmap *slots_map; } st;"),
    "pointer": (HEAD, "struct hash_elem spt_elem; bool writable;", FRAME, "struct hash *table;",
                *SLOT_MAP),
    "read_only": (HEAD, "struct hash_elem spt_elem; bool read_only;", FRAME,
                  "struct hash pages;", *SLOT_MAP),
    "no_flag": (HEAD, "struct hash_elem spt_elem;", FRAME, "struct hash pages;", "void *aux;",
                ""),
    "skeleton": (HEAD, "", FRAME, "", "", ""),
    "ambiguous": (HEAD, "struct hash_elem x;", FRAME, "struct hash a; struct hash b;",
                  "int slot_a, slot_b;",
                  "__attribute__((used)) struct bitmap *swap_map, *slot_map;"),
    # every name hint points at the wrong member; behaviour points at the right one
    "decoy": ("const struct page_operations *q0; void *va; void *q1; struct frame *frame; "
              "struct frame *q2;",
              "struct hash_elem spt_elem; struct hash_elem q7; bool writable; bool q4; "
              "int rw;", "void *kva; void *q3; struct page *q8;", "struct hash pages;",
              "size_t slot_no; size_t q5;",
              "__attribute__((used)) struct bitmap *swap_table; "
              "__attribute__((used)) struct { int n; struct bitmap *q6; } *q9;"),
    # two flags that say the same on every page: undecidable until they differ
    "twin_flags": (HEAD, "struct hash_elem spt_elem; bool q_a; bool q_b;", FRAME,
                   "struct hash pages;", *SLOT_MAP),
    # the SPT hash and a list of some of the pages (mmaps), no telling names
    "two_tables": (HEAD, "struct hash_elem q_h; struct list_elem q_l; bool writable;", FRAME,
                   "struct list q_mmaps; struct hash q_pages;", *SLOT_MAP),
    # the same, but one of them is named like a writable flag
    "hinted_twins": (HEAD, "struct hash_elem spt_elem; bool copy_of_w; bool writable;", FRAME,
                     "struct hash pages;", *SLOT_MAP),
}
# per layout: what the Guest writes where (member paths); defaults in NAMES
NAMES = {"ops": "operations", "va": "va", "frame": "frame", "kva": "kva", "owner": "page",
         "flag": "writable", "slot": "anon.slot_no"}
LAYOUT_NAMES = {
    "read_only": {"flag": "read_only"},
    "list": {"slot": "anon.swap_idx"},
    "no_flag": {"flag": None, "slot": None},
    "decoy": {"ops": "q0", "va": "q1", "frame": "q2", "kva": "q3", "owner": "q8", "flag": "q4",
              "slot": "anon.q5"},
    "twin_flags": {"flag": ("q_a", "q_b")},
    "hinted_twins": {"flag": ("writable", "copy_of_w")},
    "ambiguous": {"flag": None, "slot": "anon.slot_a"},
}


def compile_layouts(work: Path) -> dict[str, Path]:
    """Layout name -> ELF file built from SOURCE with that layout, in WORK."""
    source = work / "kernel.c"
    source.write_text(SOURCE)
    out = {}
    for name, (head, members, frame, spt, anon, swap) in LAYOUTS.items():
        out[name] = work / f"{name}.elf"
        subprocess.run(["gcc", "-g", "-O0", "-nostdlib", "-static", "-o", str(out[name]),
                        f"-DPAGE_HEAD={head}", f"-DPAGE_MEMBERS={members}",
                        f"-DFRAME_MEMBERS={frame}", f"-DSPT_MEMBERS={spt}",
                        f"-DANON_MEMBERS={anon}", f"-DSWAP_GLOBALS={swap}", str(source)],
                       check=True, capture_output=True, timeout=60)
    return out


def dwarf(path: Path) -> DwarfTypes:
    return DwarfTypes(ELFFile(open(path, "rb")))


def names_of(layout: str) -> dict:
    return {**NAMES, **LAYOUT_NAMES.get(layout, {})}


class FakeMemory:
    """Sparse guest memory; reading a page never written raises like the stub."""

    def __init__(self):
        self.pages: dict[int, bytearray] = {}

    def write(self, address: int, data: bytes) -> None:
        for i, byte in enumerate(data):
            page = self.pages.setdefault((address + i) // PAGE, bytearray(PAGE))
            page[(address + i) % PAGE] = byte

    def read(self, address: int, size: int) -> bytes:
        out = bytearray()
        for a in range(address, address + size):
            if a // PAGE not in self.pages:
                raise RspMemoryError(a, size, b"E14", False)
            out.append(self.pages[a // PAGE][a % PAGE])
        return bytes(out)

    def put(self, address: int, t, path: str, value: int) -> None:
        """Writes integer VALUE into member PATH of the T at ADDRESS."""
        member = t.member(path)
        self.write(address + member.offset, value.to_bytes(member.type.resolved().size,
                                                           "little", signed=value < 0))


class Guest:
    """Builds Pintos structures in a FakeMemory for one compiled layout;
    NAMES (names_of(layout)) says which members hold what."""

    def __init__(self, types: DwarfTypes, names: dict | None = None):
        self.types, self.mem = types, FakeMemory()
        self.names = dict(names or NAMES)
        self.thread = types.get("struct thread")
        self.page = types.get("struct page")
        self.next_free = KERN_BASE + 0x10000
        self.ops = {}

    def alloc(self, size: int) -> int:
        address = self.next_free
        self.next_free += -(-size // 64) * 64
        self.mem.write(address, bytes(size))
        return address

    def ops_table(self, vm_type: int) -> int:
        if vm_type not in self.ops:
            t = self.types.get("struct page_operations")
            self.ops[vm_type] = self.alloc(t.size)
            self.mem.put(self.ops[vm_type], t, "type", vm_type)
        return self.ops[vm_type]

    def new_page(self, va: int, vm_type: int, flag: int = 1, kva: int | None = None,
                 slot: int | None = None, slot_member: str | None = None) -> int:
        """A struct page at VA of VM_TYPE; FLAG into the flag member(s);
        KVA: a frame holding it; SLOT into the slot member."""
        page = self.alloc(self.page.size)
        slot_member = slot_member or self.names["slot"]
        if slot is not None:
            self.mem.put(page, self.page, slot_member, slot)
        self.mem.put(page, self.page, self.names["va"], va)
        self.mem.put(page, self.page, self.names["ops"], self.ops_table(vm_type))
        flags = self.names["flag"]
        for name in (flags,) if isinstance(flags, str) else flags or ():
            self.mem.put(page, self.page, name, flag)
        if kva is not None:
            frame_type = self.types.get("struct frame")
            frame = self.alloc(frame_type.size)
            self.mem.put(frame, frame_type, self.names["kva"], kva)
            self.mem.put(frame, frame_type, self.names["owner"], page)
            self.mem.put(page, self.page, self.names["frame"], frame)
        return page

    def link_list(self, list_address: int, elems: list[int]) -> None:
        """A Pintos list at LIST_ADDRESS holding the elements at ELEMS."""
        list_type = self.types.get("struct list")
        head = list_address + list_type.offset_of("head")
        tail = list_address + list_type.offset_of("tail")
        chain = [head, *elems, tail]
        for before, after in zip(chain, chain[1:]):
            self.mem.write(before + 8, after.to_bytes(8, "little"))   # next
            self.mem.write(after, before.to_bytes(8, "little"))       # prev

    def new_thread(self, table: tuple, pages: list[int], buckets: int = 2) -> int:
        """A thread page whose SPT TABLE ((Container, link), as in
        SptLayout.tables) holds PAGES."""
        container, link = table
        thread = self.alloc(PAGE)
        self.mem.put(thread, self.thread, "magic", THREAD_MAGIC)
        address = thread + self.thread.offset_of(container.path)
        if container.indirect:
            pointer, address = address, self.alloc(container.type.size)
            self.mem.write(pointer, address.to_bytes(8, "little"))
        links = [p + self.page.offset_of(link) for p in pages]
        if container.kind == "list":
            self.link_list(address, links)
            return thread
        list_size = self.types.get("struct list").size
        array = self.alloc(buckets * list_size)
        self.mem.put(address, container.type, "buckets", array)
        self.mem.put(address, container.type, "bucket_cnt", buckets)
        for b in range(buckets):
            self.link_list(array + b * list_size, links[b::buckets])
        return thread

    def bitmap(self, used: list[bool]) -> int:
        """A struct bitmap with bits USED; returns its address."""
        bitmap_type = self.types.get("struct bitmap")
        address, bits = self.alloc(bitmap_type.size), self.alloc(len(used) // 8 + 8)
        self.mem.put(address, bitmap_type, "bit_cnt", len(used))
        self.mem.put(address, bitmap_type, "bits", bits)
        self.mem.write(bits, sum(1 << i for i, u in enumerate(used) if u).to_bytes(
            len(used) // 8 + 8, "little"))
        return address

    def swap_disk(self, sectors: int) -> None:
        """The swap disk (channels[1].devices[1]) has SECTORS sectors."""
        channels = self.types.variable("channels")
        channel = channels.type.resolved().target.resolved()
        disk = self.types.get("struct disk")
        address = (channels.address + channel.size + channel.offset_of("devices") + disk.size)
        self.mem.write(channels.address, bytes(2 * channel.size))
        self.mem.put(address, disk, "capacity", sectors)


def walk(resident: dict, writable: bool = True):
    """Page tables mapping user VA -> physical frame for RESIDENT."""
    flags = PTE_P | PTE_U | (PTE_W if writable else 0)
    return make_snapshot(0x9000, [PageMapping(va, PAGE, phys, flags, phys | flags,
                                              (0, 0, 0, 0)) for va, phys in resident.items()],
                         [], [], user_top=LAYOUT.user_top)


class FakeImage:
    """The part of a ProgramImage the writable role reads: PT_LOAD
    segments (va, memsz, flags, data). Code 0x400000..0x402000 (R X), data
    0x402000..0x404000 (R W)."""
    segments = [(0x400000, 0x2000, 5, b""), (0x402000, 0x2000, 6, b"")]

    def elf_bytes(self, va: int, length: int):
        """Zeros (the fake program's bytes) inside its segments."""
        return bytes(length) if 0x400000 <= va and va + length <= 0x404000 else None


STACK_PAGE = LAYOUT.user_stack - PAGE
# va: (vm_type, writable, kernel address of its frame or None)
PROCESS_PAGES = {0x400000: (1, False, KERN_BASE + 0x200000),
                 0x401000: (1, False, KERN_BASE + 0x201000),
                 0x402000: (0, True, None),
                 0x403000: (1, True, KERN_BASE + 0x203000),
                 STACK_PAGE: (1, True, KERN_BASE + 0x204000)}


def build_process(guest: Guest, table: tuple, inverted: bool = False,
                  swapped: dict | None = None, pages: dict | None = None):
    """A thread whose SPT holds PAGES (default PROCESS_PAGES) plus the
    anonymous pages SWAPPED (va -> slot, not resident); INVERTED: the
    layout's flag means read-only. Returns (thread address, page tables,
    {va: struct page address})."""
    made = {}
    for va, (vm_type, writable, kva) in (pages or PROCESS_PAGES).items():
        made[va] = guest.new_page(va, vm_type, int(writable != inverted), kva=kva)
    for va, slot in (swapped or {}).items():
        made[va] = guest.new_page(va, 1, int(not inverted), slot=slot)
    resident = {va: kva - KERN_BASE for va, (_, _, kva) in (pages or PROCESS_PAGES).items()
                if kva is not None}
    return guest.new_thread(table, list(made.values())), walk(resident), made
