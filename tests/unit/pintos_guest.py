"""Kernels-in-miniature for the Pintos-KAIST SPT tests: a C file with
Pintos-style types (struct thread, page, frame, hash, list, bitmap, palloc
pools, TSS, swap map) compiled with gcc -g in several layouts, and a fake
guest memory that lays out Pintos structures through their DWARF offsets."""

from __future__ import annotations

import subprocess
from pathlib import Path

from elftools.elf.elffile import ELFFile

from harness.adapters.pintos_inspect import KERN_BASE, THREAD_MAGIC
from harness.dwarf_types import DwarfTypes
from harness.rsp import RspMemoryError

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
struct frame { void *kva; struct page *page; struct list_elem frame_elem; };
struct uninit_page { void *init; enum vm_type type; void *aux; };
struct anon_page { ANON_MEMBERS };
struct file_page { void *file; long ofs; };
struct page {
  const struct page_operations *operations;
  void *va;
  struct frame *frame;
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
__attribute__((used)) static struct pool kernel_pool, user_pool;
__attribute__((used)) struct task_state *tss;
__attribute__((used)) struct thread *a_thread;
__attribute__((used)) struct page *a_page;
SWAP_GLOBALS
void _start (void) { }
"""
SLOT_MAP = ("size_t slot_no;", "__attribute__((used)) struct bitmap *swap_table;")
LAYOUTS = {   # name: (page members, SPT members, anon_page members, swap globals)
    "hash": ("struct hash_elem spt_elem; bool writable;", "struct hash pages;", *SLOT_MAP),
    "list": ("struct list_elem mmap_elem; struct list_elem spt_elem; bool writable;",
             "struct list pages;", "size_t swap_num; bool on_disk; int swap_idx;",
             "__attribute__((used)) struct swap_table { struct lock lock; "
             "struct bitmap *slots_map; } st;"),
    "pointer": ("struct hash_elem spt_elem; bool writable;", "struct hash *table;", *SLOT_MAP),
    "read_only": ("struct hash_elem spt_elem; bool read_only;", "struct hash pages;",
                  *SLOT_MAP),
    "no_flag": ("struct hash_elem spt_elem;", "struct hash pages;", "void *aux;", ""),
    "skeleton": ("", "", "", ""),
    "ambiguous": ("struct hash_elem x;", "struct hash a; struct hash b;", "int slot_a, slot_b;",
                  "__attribute__((used)) struct bitmap *swap_map, *slot_map;"),
}


def compile_layouts(work: Path) -> dict[str, Path]:
    """Layout name -> ELF file built from SOURCE with that layout, in WORK."""
    source = work / "kernel.c"
    source.write_text(SOURCE)
    out = {}
    for name, (page_members, spt_members, anon_members, swap_globals) in LAYOUTS.items():
        out[name] = work / f"{name}.elf"
        subprocess.run(["gcc", "-g", "-O0", "-nostdlib", "-static", "-o", str(out[name]),
                        f"-DPAGE_MEMBERS={page_members}", f"-DSPT_MEMBERS={spt_members}",
                        f"-DANON_MEMBERS={anon_members}", f"-DSWAP_GLOBALS={swap_globals}",
                        str(source)], check=True, capture_output=True, timeout=60)
    return out


def dwarf(path: Path) -> DwarfTypes:
    return DwarfTypes(ELFFile(open(path, "rb")))


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
    """Builds Pintos structures in a FakeMemory for one compiled layout."""

    def __init__(self, types: DwarfTypes):
        self.types, self.mem = types, FakeMemory()
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
                 slot: int | None = None, slot_member: str = "anon.slot_no") -> int:
        page = self.alloc(self.page.size)
        if slot is not None:
            self.mem.put(page, self.page, slot_member, slot)
        self.mem.put(page, self.page, "va", va)
        self.mem.put(page, self.page, "operations", self.ops_table(vm_type))
        for name in ("writable", "read_only"):
            if name in {m.name for m in self.page.members}:
                self.mem.put(page, self.page, name, flag)
        if kva is not None:
            frame_type = self.types.get("struct frame")
            frame = self.alloc(frame_type.size)
            self.mem.put(frame, frame_type, "kva", kva)
            self.mem.put(page, self.page, "frame", frame)
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

    def new_thread(self, layout, pages: list[int], buckets: int = 2) -> int:
        """A thread page whose SPT (of LAYOUT) holds PAGES."""
        thread = self.alloc(PAGE)
        self.mem.put(thread, self.thread, "magic", THREAD_MAGIC)
        table = thread + self.thread.offset_of(layout.container.path)
        if layout.container.indirect:
            pointer, table = table, self.alloc(layout.container.type.size)
            self.mem.write(pointer, table.to_bytes(8, "little"))
        links = [p + self.page.offset_of(layout.link) for p in pages]
        if layout.container.kind == "list":
            self.link_list(table, links)
            return thread
        list_size = self.types.get("struct list").size
        array = self.alloc(buckets * list_size)
        self.mem.put(table, layout.container.type, "buckets", array)
        self.mem.put(table, layout.container.type, "bucket_cnt", buckets)
        for b in range(buckets):
            self.link_list(array + b * list_size, links[b::buckets])
        return thread
