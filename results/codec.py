"""results.json: the results model to JSON and back, the one place the
run-to-report boundary is serialised.

to_json(value) turns a value of the model into JSON data: a dataclass into
an object of its fields, an enum into its value, a tuple into a list.
from_json(hint, data) turns it back, led by the dataclasses' type hints,
so that every value comes back typed (a Violation, an SptPage, a
PageTableSnapshot, a HangRecord), never a dict a reader has to pick
apart. Two types keep a JSON form of their own (FORMS): page tables
(hex addresses, versioned "vmcheck-pagetables/1", as people read them)
and wait-for graphs (with their cycle and description spelled out for
people and tools reading the file).

Loading is strict about what it does not know (a key no field has is an
error: the file is not ours, or of another version) and lenient about
what is missing (a field added later keeps its default, so older files
still load).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
import types
import typing
from pathlib import Path
from typing import Any, Callable, Optional

from results.model import RunResult
from oracles.model.machine_state import number_ranges, parse_number_ranges
from oracles.model.page_tables import (Anomaly, PageMapping, PageTableSnapshot, format_flags,
                                       make_snapshot, parse_flags)
from oracles.model.wait_graph import ThreadNode, WaitGraph

SCHEMA_VERSION = 1
SNAPSHOT_FORMAT = "vmcheck-pagetables/1"


def to_json(value: Any) -> Any:
    """VALUE (a value of the results model) as JSON data."""
    form = FORMS.get(type(value))
    if form is not None:
        return form[0](value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, (dict, types.MappingProxyType)):
        return {key: to_json(item) for key, item in value.items()}
    return value


def from_json(hint: Any, data: Any) -> Any:
    """DATA (JSON) as a value of type HINT; ValueError naming the first
    key or value that does not fit."""
    if data is None:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return from_json(next(a for a in args if a is not type(None)), data)
    if origin is list:
        return [from_json(args[0], item) for item in _list(data, hint)]
    if origin is tuple:
        items = _list(data, hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_json(args[0], item) for item in items)
        return tuple(from_json(a, item) for a, item in zip(args, items, strict=True))
    if origin is dict:
        return {key: from_json(args[1], item) for key, item in data.items()}
    if hint in FORMS:
        return FORMS[hint][1](data)
    if dataclasses.is_dataclass(hint):
        return _dataclass(hint, data)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(data)
    if hint is int:
        return _int(data, "a whole number")
    if hint is float and isinstance(data, (int, float)) and not isinstance(data, bool):
        return float(data)
    return data


def _list(data: Any, hint: Any) -> list:
    if not isinstance(data, list):
        raise ValueError(f"{data!r} is not a list ({hint})")
    return data


def _int(value: Any, what: str) -> int:
    """An int from JSON: a number, or a hex/decimal string (addresses)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not {what}")


@functools.cache
def _fields(cls: type) -> tuple[dict, frozenset]:
    """CLS's resolved type hints and the names its constructor takes: asked
    once a class (get_type_hints evaluates every annotation's string again
    on each call: 4 of a whole suite's 4.3 s of loading)."""
    return (typing.get_type_hints(cls),
            frozenset(f.name for f in dataclasses.fields(cls) if f.init))


def _dataclass(cls: type, data: Any) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: {data!r} is not an object")
    hints, names = _fields(cls)
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown key {unknown[0]!r}")
    try:
        return cls(**{name: from_json(hints[name], value) for name, value in data.items()})
    except TypeError as e:   # a required field is missing
        raise ValueError(f"{cls.__name__}: {e}") from None


# ---- the types with a JSON form of their own -------------------------------

def _hex(value: Optional[int]) -> Optional[str]:
    return None if value is None else hex(value)


def _address(value: Any, key: str) -> Optional[int]:
    """An address of a snapshot: an int or a '0x..' string; names KEY if not."""
    if value is None:
        return None
    try:
        return _int(value, "a number")
    except ValueError:
        raise ValueError(f"snapshot field {key!r}: not a number: {value!r}") from None


def _mapping_to_json(m: PageMapping) -> dict:
    return {"va": hex(m.va), "size": m.size, "phys": hex(m.phys),
            "flags": format_flags(m.flags), "value": hex(m.leaf_value),
            "entries": [hex(a) for a in m.entry_addrs]}


def _mapping_from_json(d: dict) -> PageMapping:
    try:
        return PageMapping(_address(d["va"], "va"), _address(d["size"], "size"),
                           _address(d["phys"], "phys"), parse_flags(d["flags"]),
                           _address(d["value"], "value"),
                           tuple(_address(a, "entries") for a in d["entries"]))
    except KeyError as missing:
        raise ValueError(f"page mapping {d!r}: missing key {missing}") from None


def _anomaly_to_json(a: Anomaly) -> dict:
    return {"kind": a.kind, "va": _hex(a.va), "level": a.level,
            "entry_addr": _hex(a.entry_addr), "value": _hex(a.value), "message": a.message}


def _anomaly_from_json(d: dict) -> Anomaly:
    try:
        return Anomaly(d["kind"], _address(d["va"], "va"), d["level"],
                       _address(d["entry_addr"], "entry_addr"), _address(d["value"], "value"),
                       d["message"])
    except KeyError as missing:
        raise ValueError(f"anomaly {d!r}: missing key {missing}") from None


def _snapshot_to_json(snap: PageTableSnapshot) -> dict:
    return {"format": SNAPSHOT_FORMAT, "cr3": hex(snap.cr3), "user_top": hex(snap.user_top),
            "include_kernel": snap.include_kernel,
            "user_pages": [_mapping_to_json(m) for m in snap.user_pages.values()],
            "kernel_pages": [_mapping_to_json(m) for m in snap.kernel_pages.values()],
            "anomalies": [_anomaly_to_json(a) for a in snap.anomalies]}


def _snapshot_from_json(d: dict) -> PageTableSnapshot:
    if d.get("format") != SNAPSHOT_FORMAT:
        raise ValueError(f"not a page-table snapshot: format is {d.get('format')!r}, "
                         f"expected {SNAPSHOT_FORMAT!r}")
    try:
        return make_snapshot(_address(d["cr3"], "cr3"),
                             [_mapping_from_json(m) for m in d["user_pages"]],
                             [_mapping_from_json(m) for m in d["kernel_pages"]],
                             [_anomaly_from_json(a) for a in d["anomalies"]],
                             user_top=_address(d["user_top"], "user_top"),
                             include_kernel=bool(d["include_kernel"]))
    except KeyError as missing:
        raise ValueError(f"page-table snapshot: missing key {missing}") from None


def _graph_to_json(graph: WaitGraph) -> dict:
    return {"threads": [to_json(t) for t in graph.threads],
            "cycle": [t.tid for t in graph.cycle()], "description": graph.describe()}


def _graph_from_json(d: dict) -> WaitGraph:
    return WaitGraph([from_json(ThreadNode, t) for t in d.get("threads", [])])


FORMS: dict[type, tuple[Callable, Callable]] = {
    PageTableSnapshot: (_snapshot_to_json, _snapshot_from_json),
    WaitGraph: (_graph_to_json, _graph_from_json),
    frozenset: (number_ranges, parse_number_ranges),   # PoolState.swap_slots_in_use
}


# ---- results.json -----------------------------------------------------------

def versioned_to_json(value: Any, version: int) -> dict:
    """VALUE (a dataclass of the model) as a JSON object with "schema": VERSION."""
    return {**to_json(value), "schema": version}


def versioned_from_json(hint: Any, data: Any, version: int, what: str) -> Any:
    """The HINT that versioned_to_json made DATA of; ValueError if DATA is not
    one, or of another VERSION (WHAT names the file's kind)."""
    if not isinstance(data, dict) or data.get("schema") != version:
        got = data.get("schema") if isinstance(data, dict) else None
        raise ValueError(f"{what} schema {got!r}, expected {version}")
    return from_json(hint, {k: v for k, v in data.items() if k != "schema"})


def run_to_json(run: RunResult) -> dict:
    return versioned_to_json(run, SCHEMA_VERSION)


def run_from_json(d: dict) -> RunResult:
    """The RunResult results.json data D holds; ValueError if it is not one."""
    return versioned_from_json(RunResult, d, SCHEMA_VERSION, "results")


def save_run(run: RunResult, path: Path) -> None:
    path.write_text(run_text(run_to_json(run)))


def run_text(data: dict) -> str:
    """results.json's text: a run's fields a line each, and its scenarios
    a line each (grep finds one scenario's line). Without `indent`, json
    encodes in C: a whole suite's 13 MB in 0.06 s instead of 0.55 s."""
    lines = []
    for key, value in data.items():
        if key == "scenarios" and isinstance(value, list):
            scenarios = ",\n".join(json.dumps(sc, default=str) for sc in value)
            lines.append(f"{json.dumps(key)}: [\n{scenarios}\n]")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, default=str)}")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def load_run(path: Path) -> RunResult:
    """The run saved at PATH; OSError, json.JSONDecodeError or ValueError."""
    return run_from_json(json.loads(Path(path).read_text()))


def snapshot_from_json(d: dict) -> Optional[PageTableSnapshot]:
    """A page-table snapshot in its JSON form (also outside results.json)."""
    return _snapshot_from_json(d)
