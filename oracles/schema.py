"""Small declarative schemas for data files (scenario files, schedules).

A Field says what type a value must have and what else must hold;
`validate_table` checks one TOML table against a dict of Fields and
raises SchemaError with the key path of the first mistake. Callers turn
the path into "file:line: ..." with harness.run.toml_lines.
"""

from __future__ import annotations

import ast
import dataclasses
from typing import Any, Callable, Optional, Sequence

MISSING = object()


class SchemaError(Exception):
    """A value in a data file is wrong. path: keys/indexes from the root."""

    def __init__(self, path: Sequence, message: str):
        self.path = list(path)
        self.message = message
        super().__init__(message)


@dataclasses.dataclass(frozen=True)
class Field:
    """One key of a table. kind: a Python type or a tuple of types; items:
    element type for lists; check: extra test returning an error message or
    None; default MISSING means required."""
    kind: Any
    default: Any = MISSING
    items: Any = None
    check: Optional[Callable[[Any], Optional[str]]] = None
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is MISSING


def type_name(kind) -> str:
    names = {str: "a string", int: "an integer", float: "a number", bool: "true/false",
             list: "a list", dict: "a table"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, kind.__name__)


def _is_kind(value, kind) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        return False  # TOML true is not an integer
    if float in kinds and isinstance(value, int) and not isinstance(value, bool):
        return True
    return isinstance(value, kinds)


def check_value(value, field: Field, path: list) -> None:
    if not _is_kind(value, field.kind):
        raise SchemaError(path, f"must be {type_name(field.kind)}, not {value!r}")
    if field.items is not None and isinstance(value, list):
        for i, item in enumerate(value):
            if not _is_kind(item, field.items):
                raise SchemaError(path + [i], f"must be {type_name(field.items)}, not {item!r}")
    if field.check is not None:
        problem = field.check(value)
        if problem:
            raise SchemaError(path, problem)


def validate_table(table: dict, fields: dict, path: list, what: str) -> dict:
    """Checks TABLE's keys against FIELDS; returns the values with defaults
    filled in. Unknown keys, missing required keys and wrong types raise."""
    for key in table:
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise SchemaError(path + [key], f"unknown key '{key}' in {what} (known: {known})")
    out = {}
    for key, field in fields.items():
        if key in table:
            check_value(table[key], field, path + [key])
            out[key] = table[key]
        elif field.required:
            raise SchemaError(path, f"{what} is missing required key '{key}'")
        else:
            out[key] = field.default
    return out


def in_range(lo, hi) -> Callable[[Any], Optional[str]]:
    return lambda v: None if lo <= v <= hi else f"must be between {lo} and {hi}, not {v}"


def one_of(*choices) -> Callable[[Any], Optional[str]]:
    return lambda v: None if v in choices else (
        f"must be one of {', '.join(map(repr, choices))}, not {v!r}")


# ---- Address expressions ---------------------------------------------------
# A user address in a scenario: an integer, or a string such as
# "buffer + 3 * PGSIZE" or "USER_STACK - 0x1000" over ELF symbols of the
# program and the kernel's layout constants (AddressLayout.constants());
# + - * and parentheses only.

_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b}


def _parse_address(text: str) -> ast.AST:
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"bad address expression {text!r}") from None
    for node in ast.walk(tree):
        if not isinstance(node, (ast.BinOp, ast.Constant, ast.Name, ast.Load,
                                 ast.Add, ast.Sub, ast.Mult)):
            raise ValueError(f"bad address expression {text!r}: only names, "
                             "integers, + - * and parentheses are allowed")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int):
            raise ValueError(f"bad address expression {text!r}: {node.value!r} is not an integer")
    return tree


def address_names(expr) -> set:
    """Names (symbols) an address expression refers to; raises ValueError
    if it is malformed."""
    if isinstance(expr, int):
        return set()
    return {n.id for n in ast.walk(_parse_address(expr)) if isinstance(n, ast.Name)}


def eval_address(expr, symbols: dict, constants: dict) -> int:
    """Value of an address expression; names from SYMBOLS, then CONSTANTS
    (the layout's). Raises KeyError naming an unknown symbol."""
    if isinstance(expr, int):
        return expr

    def ev(node):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            if node.id in symbols:
                return symbols[node.id]
            if node.id in constants:
                return constants[node.id]
            raise KeyError(node.id)
        return _OPS[type(node.op)](ev(node.left), ev(node.right))

    return ev(_parse_address(expr))


def address_check(value) -> Optional[str]:
    try:
        address_names(value)
    except ValueError as e:
        return str(e)
    return None
