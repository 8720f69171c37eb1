"""The mutation operators of `vmcheck mutants --generate`: each makes the
one change it names, leaves lines it must not touch alone, and a mutation
applies only to the line it was made from."""

import pytest

from harness.course.mutant_ops import OPERATORS, Mutation, apply, mutations_of


def made(operator, line):
    return list(OPERATORS[operator](line))


def test_negate_condition_wraps_the_whole_condition():
    assert made("negate-cond", "  if (a < b && c)") == ["  if (!(a < b && c))"]
    assert made("negate-cond", "  while (n-- > 0) {") == ["  while (!(n-- > 0)) {"]
    assert made("negate-cond", "  if (a &&") == []          # condition goes on: left alone


def test_relational_swaps_each_operator_once():
    assert made("relational", "  if (a < b || c >= d)") == ["  if (a <= b || c >= d)",
                                                             "  if (a < b || c > d)"]
    assert made("relational", "  x = a << 2; p->q;") == []   # shifts and arrows are not compared


def test_logical_constant_bool_increment():
    assert made("logical", "  if (a && b)") == ["  if (a || b)"]
    assert made("constant", "  x = 8;") == ["  x = 9;", "  x = 7;"]
    assert made("constant", "  x = 0;") == ["  x = 1;"]
    assert made("constant", '  printf("%d", 3);') == []       # not inside strings
    assert made("constant", "  x = y0 + 0x10;") == []         # no digit of a name or hex number
    assert made("bool", "  return true;") == ["  return false;"]
    assert made("increment", "  FT.used_cnt++;") == ["  FT.used_cnt--;"]


def test_drop_call_removes_a_call_statement_only():
    assert made("drop-call", "    frame_unpin(f);") == ["    (void)0;"]
    assert made("drop-call", "  return frame_unpin(f);") == []
    assert made("drop-call", "  x = frame_alloc(va);") == []


def test_pte_flag_removes_one_flag():
    assert made("pte-flag", "  e = pa | PTE_W | PTE_P;") == ["  e = pa | PTE_P;",
                                                             "  e = pa | PTE_W;"]


def test_comments_directives_and_assertions_are_left_alone():
    text = "\n".join(["/* a < b */", "#if A < B", "  ASSERT(a < b);", '  PANIC("x < y");',
                      "  // a < b", "/* start", "  a < b", "end */", "  if (a < b)"])
    assert {m.line for m in mutations_of(text, "vm/x.c")} == {9}


def test_apply_changes_only_its_line_and_refuses_a_changed_file():
    text = "int f(void) {\n  if (a < b)\n    return 1;\n}\n"
    m = Mutation("vm/x.c", 2, "relational", "  if (a < b)", "  if (a <= b)")
    assert apply(text, m) == text.replace("a < b", "a <= b")
    with pytest.raises(ValueError, match="vm/x.c:2"):
        apply(text.replace("a < b", "a > b"), m)
    assert m.ident.startswith("vm-x-2-relational-") and m.ident == Mutation(*vars(m).values()).ident


def test_each_mutation_knows_its_function():
    text = "\n".join(["static int count;", "int g(void);", "struct s {", "  int a;", "};",
                      "static struct frame *take(void *kva,", "                          int n) {",
                      "  count++;", "}", "/* void h(void) { */", "void h(void) {",
                      "  count++;", "}"])
    assert [(m.line, m.function) for m in mutations_of(text, "vm/x.c", ["increment"])] == [
        (8, "take"), (12, "h")]
