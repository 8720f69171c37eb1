"""Capstone, imported without an import it never uses.

Debian's capstone 4 binding (python3-capstone) runs `import
distutils.sysconfig` at import time and never uses the module. With
setuptools installed, that import goes through setuptools' distutils shim
and loads setuptools and pkg_resources: ~0.3 s of every vmcheck command's
start (`python3 -X importtime -c "import capstone"`: 382 ms, 71 ms
without it). Two placeholder modules stand in for that one import and are
taken out of sys.modules right after, so a later `import distutils`
anywhere gets the real one.
"""
from __future__ import annotations

import sys
import types

_UNUSED_BY_CAPSTONE = ("distutils", "distutils.sysconfig")


def _import_capstone():
    placed = [name for name in _UNUSED_BY_CAPSTONE if name not in sys.modules]
    for name in placed:
        sys.modules[name] = types.ModuleType(name, "placeholder while capstone is imported")
    try:
        import capstone as module
    finally:
        for name in placed:
            sys.modules.pop(name, None)
    return module


capstone = _import_capstone()
