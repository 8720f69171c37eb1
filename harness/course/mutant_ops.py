"""Mechanical mutation operators over C source lines (vmcheck mutants
--generate, harness/course/mutant_gen.py).

Each operator looks at one line and yields the lines it can make from it,
one change each:

  negate-cond    if (C) / while (C)  ->  if (!(C)) / while (!(C))
  relational     <  <=  >  >=  ==  !=  swapped with their neighbour
                 (< and <=, > and >=, == and !=)
  logical        &&  ||  swapped
  constant       an integer literal N  ->  N + 1, N - 1
  drop-call      a statement that is only a call  ->  removed (a TLB
                 flush, a free, an unlock, a counter update...)
  pte-flag       PTE_X | ... or ... | PTE_X  ->  without PTE_X
  bool           true  <->  false
  increment      x++ <-> x--, ++x <-> --x

Lines that are preprocessor directives, comments, blank, or assertions
and panics (ASSERT, PANIC, printf: a mutant killed only by the kernel's
own assertion says nothing about the suite) are left alone. Which
mutated lines ever run is for the coverage filter to say.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path
from typing import Callable, Iterator

SKIPPED_WORDS = ("ASSERT", "PANIC", "printf", "NOT_REACHED", "_Static_assert")
RELATIONAL = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}
SPACED_OPERATOR = re.compile(r"(?<=\s)(<=|>=|==|!=|<|>|&&|\|\|)(?=\s)")
INTEGER = re.compile(r"(?<![\w.])(\d+)(?![\w.])")
CALL_STATEMENT = re.compile(r"^(\s*)[A-Za-z_][\w>.-]*\s*\(.*\);\s*$")
PTE_FLAG = re.compile(r"PTE_[A-Z]+\s*\|\s*|\s*\|\s*PTE_[A-Z]+")
BOOL = re.compile(r"\b(true|false)\b")
INCREMENT = re.compile(r"(\+\+|--)")
CONDITION_START = re.compile(r"\b(if|while)\s*\(")
# A function definition's first line: at column 0, a name and "(", no ";".
FUNCTION_START = re.compile(r"^[A-Za-z_][^;=]*?\b([A-Za-z_]\w*)\s*\([^;]*$")


@dataclasses.dataclass(frozen=True)
class Mutation:
    """One change: LINE (1-based) of FILE (relative to the kernel source
    root) reads AFTER instead of BEFORE; FUNCTION is the function the line
    is in ("" outside one), so that the same line in two functions can be
    told apart (mutants-equivalent.toml)."""
    file: str
    line: int
    operator: str
    before: str
    after: str
    function: str = dataclasses.field(default="", compare=False)

    @property
    def ident(self) -> str:
        """A stable name: file, line, operator and a short hash of the change."""
        digest = hashlib.sha1(f"{self.before}\0{self.after}".encode()).hexdigest()[:6]
        stem = self.file.replace("/", "-").removesuffix(".c")
        return f"{stem}-{self.line}-{self.operator}-{digest}"

    def diff(self) -> str:
        return f"--- {self.file}:{self.line}\n-{self.before}\n+{self.after}"


def _matching_paren(text: str, open_at: int) -> int:
    """Index of the ')' closing the '(' at OPEN_AT, or -1 on this line."""
    depth = 0
    for i in range(open_at, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    return -1


def negate_condition(line: str) -> Iterator[str]:
    for m in CONDITION_START.finditer(line):
        start = m.end() - 1
        end = _matching_paren(line, start)
        if end > start + 1:
            yield f"{line[:start + 1]}!({line[start + 1:end]}){line[end:]}"


def relational(line: str) -> Iterator[str]:
    for m in SPACED_OPERATOR.finditer(line):
        op = m.group(1)
        if op in RELATIONAL:
            yield line[:m.start()] + RELATIONAL[op] + line[m.end():]


def logical(line: str) -> Iterator[str]:
    for m in SPACED_OPERATOR.finditer(line):
        swap = {"&&": "||", "||": "&&"}.get(m.group(1))
        if swap:
            yield line[:m.start()] + swap + line[m.end():]


def constant(line: str) -> Iterator[str]:
    code = line.split("//")[0].split("/*")[0]
    if '"' in code or "'" in code:
        return
    for m in INTEGER.finditer(code):
        value = int(m.group(1))
        for new in (value + 1, value - 1):
            if new >= 0:
                yield line[:m.start()] + str(new) + line[m.end():]


def drop_call(line: str) -> Iterator[str]:
    m = CALL_STATEMENT.match(line)
    if m and not line.lstrip().startswith(("return", "if", "while", "for", "switch")):
        yield f"{m.group(1)}(void)0;"


def pte_flag(line: str) -> Iterator[str]:
    for m in PTE_FLAG.finditer(line):
        yield line[:m.start()] + line[m.end():]


def flip_bool(line: str) -> Iterator[str]:
    for m in BOOL.finditer(line):
        yield line[:m.start()] + ("false" if m.group(1) == "true" else "true") + line[m.end():]


def increment(line: str) -> Iterator[str]:
    for m in INCREMENT.finditer(line):
        yield line[:m.start()] + ("--" if m.group(1) == "++" else "++") + line[m.end():]


OPERATORS: dict[str, Callable[[str], Iterator[str]]] = {
    "negate-cond": negate_condition, "relational": relational, "logical": logical,
    "constant": constant, "drop-call": drop_call, "pte-flag": pte_flag, "bool": flip_bool,
    "increment": increment,
}


def _code_lines(text: str) -> Iterator[tuple[int, str, str]]:
    """(number, line, function) of the lines of C source TEXT an operator
    may change: not in a block comment, not a directive, comment or blank
    line, not an assertion, panic or print. FUNCTION: the name of the last
    function definition that began at column 0 above the line."""
    in_comment = False
    function = ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        start = None if in_comment else FUNCTION_START.match(line)
        if start:
            function = start.group(1)
        if in_comment:
            in_comment = "*/" not in stripped
            continue
        if stripped.startswith("/*"):
            in_comment = "*/" not in stripped
            continue
        if not stripped or stripped.startswith(("#", "//", "*")):
            continue
        if any(word in stripped for word in SKIPPED_WORDS):
            continue
        yield number, line, function


def mutations_of(text: str, file: str, operators=tuple(OPERATORS)) -> list[Mutation]:
    """Every single-change mutation of source TEXT (named FILE) by OPERATORS."""
    out = []
    for number, line, function in _code_lines(text):
        for name in operators:
            for after in OPERATORS[name](line):
                if after != line:
                    out.append(Mutation(file, number, name, line, after, function))
    return out


def mutations_in(root: Path, files: list[str], operators=tuple(OPERATORS)) -> list[Mutation]:
    """The mutations of each of FILES (relative to ROOT), in file order."""
    out = []
    for file in files:
        out += mutations_of((root / file).read_text(), file, operators)
    return out


def apply(text: str, mutation: Mutation) -> str:
    """TEXT with MUTATION's line changed; ValueError if that line is not
    what the mutation was made from."""
    lines = text.split("\n")
    if lines[mutation.line - 1] != mutation.before:
        raise ValueError(f"{mutation.file}:{mutation.line} has changed since the mutation was made")
    lines[mutation.line - 1] = mutation.after
    return "\n".join(lines)
