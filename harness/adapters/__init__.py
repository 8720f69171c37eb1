"""Kernel adapters: `--kernel SPEC` -> a KernelAdapter.

SPEC is FAMILY or FAMILY:ARGUMENT (e.g. `reference`, `pintos-kaist:PATH`).
To add a family, add it to FAMILIES as "module:Class"; Class.from_spec(
argument) builds the adapter (argument is None when SPEC has no colon).
"""

from __future__ import annotations

import importlib

from harness.adapters.base import KernelAdapter
from harness.errors import UsageError

FAMILIES: dict[str, str] = {
    "reference": "harness.adapters.reference.adapter:ReferenceAdapter",
    "pintos-kaist": "harness.adapters.pintos_kaist.adapter:PintosKaistAdapter",
}


def get_adapter(spec: str) -> KernelAdapter:
    """The adapter for SPEC; UsageError for an unknown family or a missing
    or unexpected argument."""
    family, _, argument = spec.partition(":")
    target = FAMILIES.get(family)
    if target is None:
        known = ", ".join(sorted(FAMILIES))
        raise UsageError(f"unknown --kernel {spec!r} (known kernel families: {known})")
    module_name, class_name = target.split(":")
    adapter_class = getattr(importlib.import_module(module_name), class_name)
    return adapter_class.from_spec(argument or None)
