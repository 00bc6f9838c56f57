"""Line numbers for keys in a TOML file.

``tomllib`` parses but forgets positions; people editing content need ``file:line`` in every
error, so this scans the text once and maps each key path to the line it is written on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

KeyPath = tuple[str | int, ...]

_BARE_OR_QUOTED = r'(?:[A-Za-z0-9_\-]+|"[^"]*"|\'[^\']*\')'
_DOTTED = rf"{_BARE_OR_QUOTED}(?:\s*\.\s*{_BARE_OR_QUOTED})*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=")
_PART = re.compile(_BARE_OR_QUOTED)


def _split(dotted: str) -> list[str]:
    return [part.strip("\"'") for part in _PART.findall(dotted)]


class KeyLines:
    """Index from key path (``("resources", 2, "en", "name")``) to 1-based line number."""

    def __init__(self, text: str) -> None:
        self._lines: dict[KeyPath, int] = {}
        array_counts: dict[tuple[str, ...], int] = {}
        header: list[str | int] = []
        in_multiline = False
        # TOML ends a line at "\n" only; str.splitlines also splits at characters a text may
        # hold (form feed, U+2028...), which would shift every line number after them.
        for number, raw in enumerate(text.split("\n"), start=1):
            # Text inside a multi-line string can look like a key; skip it.
            if raw.count('"""') % 2 == 1 or raw.count("'''") % 2 == 1:
                was_inside = in_multiline
                in_multiline = not in_multiline
                if was_inside:
                    continue
            elif in_multiline:
                continue
            if match := _ARRAY_HEADER.match(raw):
                names = tuple(_split(match.group(1)))
                index = array_counts.get(names, 0)
                array_counts[names] = index + 1
                header = [*self._resolve(names[:-1], array_counts), names[-1], index]
                self._remember(tuple(header), number)
            elif match := _TABLE_HEADER.match(raw):
                header = self._resolve(tuple(_split(match.group(1))), array_counts)
                self._remember(tuple(header), number)
            elif match := _KEY_LINE.match(raw):
                self._remember((*header, *_split(match.group(1))), number)

    @staticmethod
    def _resolve(
        names: tuple[str, ...], array_counts: dict[tuple[str, ...], int]
    ) -> list[str | int]:
        """Insert the current index after every name that is an array of tables."""
        path: list[str | int] = []
        for i, name in enumerate(names):
            path.append(name)
            count = array_counts.get(names[: i + 1])
            if count:
                path.append(count - 1)
        return path

    def _remember(self, path: KeyPath, number: int) -> None:
        for end in range(1, len(path) + 1):
            self._lines.setdefault(path[:end], number)

    def line(self, path: Sequence[str | int]) -> int:
        """Line of the key, else of its closest written parent, else 1."""
        key = tuple(path)
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key[:-1]
        return 1
