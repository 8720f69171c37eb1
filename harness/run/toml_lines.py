"""Line numbers for keys of a TOML document.

`tomllib` reports syntax errors with a line but returns plain dicts, so a
validation error ("scenario 3, key mem_mb") needs this to point at a line.
The locator understands what scenario files use: `[table]` and
`[[array.of.tables]]` headers, `key = value` lines (values may continue on
later lines), and inline tables/arrays; for a path it finds the header of
the deepest array-of-tables element named, then the first line below it
that assigns the next key of the path.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Sequence

from harness.errors import UsageError

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")
_INLINE_KEY = r"(?:^|[{,\s])%s\s*="

PathItem = str | int
_AT_LINE = re.compile(r" \(at line (\d+), column \d+\)")


def read_toml(path: Path, what: str, error: type = UsageError) -> tuple[dict, "TomlLines"]:
    """The TOML document at PATH and its TomlLines. ERROR (a UsageError)
    when it cannot be read ("PATH: cannot read WHAT: ...") or is not TOML
    ("PATH:LINE: not valid TOML: ...", the line tomllib names)."""
    try:
        text = Path(path).read_text()
    except OSError as e:
        raise error(f"{path}: cannot read {what}: {e.strerror}") from None
    try:
        return tomllib.loads(text), TomlLines(text)
    except tomllib.TOMLDecodeError as e:
        m = _AT_LINE.search(str(e))
        raise error(f"{path}:{m.group(1) if m else 1}: not valid TOML: "
                    f"{_AT_LINE.sub('', str(e))}") from None


class TomlLines:
    """Maps key paths of one TOML text to 1-based line numbers."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        # (line index, header name, is_array) for every table header
        self.headers: list[tuple[int, str, bool]] = []
        for i, line in enumerate(self.lines):
            m = _HEADER.match(line)
            if m:
                name = m.group(2).replace(" ", "").replace('"', "")
                self.headers.append((i, name, m.group(1) == "[["))

    def _element_header(self, name: str, index: int) -> int | None:
        """Line index of the INDEX-th `[[NAME]]` header, or None."""
        seen = 0
        for i, hname, is_array in self.headers:
            if is_array and hname == name:
                if seen == index:
                    return i
                seen += 1
        return None

    def _section_end(self, start: int) -> int:
        for i, _, _ in self.headers:
            if i > start:
                return i
        return len(self.lines)

    def _find_key(self, key: str, start: int, end: int, inline: bool) -> int | None:
        pattern = re.compile(_INLINE_KEY % re.escape(key)) if inline else None
        for i in range(start, end):
            text = self.lines[i].split("#", 1)[0]
            m = _KEY.match(text)
            if m and m.group(1) == key:
                return i
            if pattern is not None and pattern.search(text):
                return i
        return None

    def line_of(self, path: Sequence[PathItem]) -> int:
        """Best 1-based line for PATH (e.g. ["scenario", 2, "checkpoint", 0,
        "expect", 1, "pages"]); 1 when nothing better is known."""
        start, end, consumed = 0, len(self.lines), 0
        # Follow [[a]] / [[a.b]] headers as deep as the path names them.
        name_parts: list[str] = []
        i = 0
        while i + 1 < len(path) and isinstance(path[i], str) and isinstance(path[i + 1], int):
            name_parts.append(path[i])
            header = self._element_header_nested(name_parts, path[: i + 2])
            if header is None:
                break
            start, end, consumed = header, self._section_end(header), i + 2
            i += 2
        line = start
        inline = False
        for item in path[consumed:]:
            if isinstance(item, int):
                inline = True
                continue
            found = self._find_key(item, line if line > start else start, end, inline)
            if found is None:
                break
            line, inline = found, True
        return line + 1

    def _element_header_nested(self, name_parts: list[str], path: Sequence[PathItem]) -> int | None:
        """Header line of the element that PATH (alternating names and
        indexes) names, e.g. the 2nd [[scenario.checkpoint]] of the 4th
        [[scenario]]."""
        name = ".".join(name_parts)
        if len(name_parts) == 1:
            return self._element_header(name, int(path[1]))
        parent = self._element_header_nested(name_parts[:-1], path[:-2])
        if parent is None:
            return None
        parent_name = ".".join(name_parts[:-1])
        seen = 0
        for i, hname, is_array in self.headers:
            if i <= parent:
                continue
            if is_array and hname == parent_name:
                break  # next parent element
            if is_array and hname == name:
                if seen == int(path[-1]):
                    return i
                seen += 1
        return None
