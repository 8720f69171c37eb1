"""tests/tools/rename_members.py on a tree-in-miniature: a vm/Makefile
that builds vm/build/kernel.o from a C file using struct page the ways
Pintos-KAIST code does (->, ., designated initializers, hash_entry, a macro
whose body uses a member, a local variable named like a member)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.tools.rename_members import main
from tests.unit.fake_pintos_tree import fake_pintos_tree

pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("gcc") is None,
                                reason="needs make and gcc")

HEADER = r"""
struct list_elem { struct list_elem *prev, *next; };
struct hash_elem { struct list_elem list_elem; };
#define hash_entry(HASH_ELEM, STRUCT, MEMBER) \
	((STRUCT *) ((unsigned char *) &(HASH_ELEM)->list_elem \
		- __builtin_offsetof (STRUCT, MEMBER.list_elem)))
struct page;
struct page_operations { int (*swap_in) (struct page *); int type; };
#define swap_in(page) \
	(page)->operations->swap_in (page)
struct frame {
	void *kva;
	struct page *page;
};
struct anon_page { unsigned long slot; };
struct page {
	const struct page_operations *operations;
	void *va;
	struct frame *frame;
	struct hash_elem elem;
	_Bool writable;
	union {
		struct anon_page anon;
	};
};
"""
SOURCE = r"""#include "page.h"
struct page *from_elem (struct hash_elem *e) { return hash_entry (e, struct page, elem); }
void init (struct page *p, void *va) {
	*p = (struct page) { .va = va, .operations = 0 };
	p->anon.slot = 3;
}
long writable_of (const struct page *p) {
	int writable = p->writable;
	return writable + (long) p->frame->kva + p->operations->type;
}
int load (struct page *p) { return swap_in (p); }
void _start (void) { }
"""
MAKEFILE = """all: build/kernel.o build/os.dsk
build/kernel.o: ../page.h ../page.c
\tmkdir -p build && cd build && $(CC) -g -O0 -nostdlib -static -o kernel.o ../../page.c -I../..
build/os.dsk: build/kernel.o
\tcp build/kernel.o build/os.dsk
"""


@pytest.fixture
def tree(tmp_path) -> Path:
    return fake_pintos_tree(tmp_path / "tree", makefile=MAKEFILE,
                            files={"page.h": HEADER, "page.c": SOURCE})


def test_every_member_is_renamed_and_the_copy_builds_the_same_code(tree, tmp_path, capsys):
    dest = tmp_path / "renamed"
    assert main([str(tree), str(dest)]) == 0
    mapping = dict(line.split(" -> ") for line in capsys.readouterr().out.splitlines())
    assert set(mapping) == {f"struct page.{m}" for m in ("operations", "va", "frame", "elem",
                                                         "writable", "anon")} | {
        "struct frame.kva", "struct frame.page", "struct anon_page.slot"}
    assert all(re.fullmatch(r"zq\d+", new) for new in mapping.values())
    source, header = (dest / "page.c").read_text(), (dest / "page.h").read_text()
    for old in ("va", "frame", "kva", "elem", "slot", "anon", "operations"):
        assert not re.search(rf"(->|\.)\s*{old}\b", source + header.split("struct frame {")[1]), old
    assert "int writable = p->" in source                 # the local variable keeps its name
    assert "->type" in source and "->swap_in (page)" in header   # page_operations is not renamed
    assert f"struct page, {mapping['struct page.elem']})" in source      # hash_entry's argument
    assert f"(page)->{mapping['struct page.operations']}->swap_in" in header   # a macro's body
    assert (dest / "vm" / "build" / "kernel.o").is_file()


def test_bad_arguments_and_an_existing_destination(tree, tmp_path, capsys):
    assert main([str(tmp_path / "nowhere"), str(tmp_path / "x")]) == 2
    (tmp_path / "taken").mkdir()
    assert main([str(tree), str(tmp_path / "taken")]) == 1
    assert "exists" in capsys.readouterr().err
