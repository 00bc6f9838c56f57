"""Reading values out of content files, collecting every problem found on the way (file, line
and key) rather than stopping at the first, so one run of ``safety-bot check`` shows them all."""

from __future__ import annotations

import string
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from shared.problems import Problem, ProblemsError, TomlFile
from shared.tomlpos import KeyPath

STALE_AFTER = timedelta(days=365)
TOPIC_PLACEHOLDERS = frozenset({"emergency", "region"})
"""The placeholders a topic's text (and a region's note on it) may use."""


def placeholders(text: str) -> frozenset[str]:
    """Names of the ``{placeholders}`` in a string (none when its braces are malformed)."""
    try:
        return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)
    except ValueError:
        return frozenset()


def brace_problem(text: str) -> str | None:
    """Why a text's braces would break filling it in, or None when they are fine."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(text)]
    except ValueError:
        return "has an unmatched { or }: write {{ or }} for a literal brace"
    for name, spec, conversion in fields:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            return f"{{{name}}} is not a placeholder: use a plain name like {{region}}"
    return None


class Reader:
    """Collects every problem across all files before giving up, so one run shows them all."""

    def __init__(self, root: Path, today: date) -> None:
        self.root = root
        self.today = today
        self.problems: list[Problem] = []

    def open(self, path: Path) -> TomlFile | None:
        try:
            return TomlFile.load(path, self._display(path))
        except ProblemsError as error:
            self.problems.extend(error.problems)
            return None

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def missing(self, path: Path, message: str) -> None:
        """A required file is missing; one that exists but cannot be read already has its
        own problem (a syntax error at its line), and is not reported missing as well."""
        if not path.is_file():
            self.problems.append(Problem(self._display(path), 1, "(file)", message))

    def error(self, file: TomlFile, path: KeyPath, message: str) -> None:
        self.problems.append(file.problem(path, message))

    def warn(self, file: TomlFile, path: KeyPath, message: str) -> None:
        self.problems.append(file.problem(path, message, warning=True))

    def text(self, file: TomlFile, table: Any, path: KeyPath, key: str, required: bool) -> str:
        value = table.get(key, "") if isinstance(table, dict) else ""
        if not isinstance(value, str):
            self.error(file, (*path, key), "must be text")
            return ""
        if required and not value.strip():
            self.error(file, (*path, key), "is missing or empty")
        return self.braces(file, (*path, key), value)

    def braces(self, file: TomlFile, path: KeyPath, value: str) -> str:
        """The text if its placeholders are well formed; else an error, and "" in its place."""
        problem = brace_problem(value)
        if problem is None:
            return value
        self.error(file, path, problem)
        return ""

    def url(self, file: TomlFile, table: Any, path: KeyPath, key: str, required: bool) -> str:
        value = self.text(file, table, path, key, required)
        if value and not value.startswith("https://"):
            self.error(file, (*path, key), f"must be an https:// URL, not {value!r}")
        return value

    def flag(self, file: TomlFile, table: Any, path: KeyPath, key: str) -> bool:
        """A true/false setting, false when absent."""
        value = table.get(key, False) if isinstance(table, dict) else False
        if not isinstance(value, bool):
            self.error(file, (*path, key), "must be true or false")
            return False
        return value

    def strings(self, file: TomlFile, table: Any, path: KeyPath) -> dict[str, str]:
        if not isinstance(table, dict):
            self.error(file, path, "must be a table of texts")
            return {}
        result: dict[str, str] = {}
        for key, value in table.items():
            if isinstance(value, str) and value.strip():
                result[key] = self.braces(file, (*path, key), value)
            else:
                self.error(file, (*path, key), "must be a non-empty text")
        return result

    def tables(self, file: TomlFile, key: str) -> Iterator[tuple[KeyPath, dict[str, Any]]]:
        """Each ``[[key]]`` table of a file with its path; anything else is reported."""
        raw = file.data.get(key, [])
        if not isinstance(raw, list):
            self.error(file, (key,), f"must be an array of [[{key}]] tables")
            return
        for i, table in enumerate(raw):
            if isinstance(table, dict):
                yield (key, i), table
            else:
                self.error(file, (key, i), f"must be a [[{key}]] table")

    def choice(
        self,
        file: TomlFile,
        table: dict[str, Any],
        path: KeyPath,
        key: str,
        allowed: tuple[str, ...],
    ) -> str:
        """A required value from a fixed list (the first one when it is wrong)."""
        value = self.text(file, table, path, key, True)
        if value and value not in allowed:
            self.error(file, (*path, key), f"must be one of {list(allowed)}, not {value!r}")
        return value if value in allowed else allowed[0]

    def verified(self, file: TomlFile, table: Any, path: KeyPath) -> date | None:
        if not isinstance(table, dict) or "verified" not in table:
            self.error(file, (*path, "verified"), 'is missing: a date (2026-01-31) or ""')
            return None
        value = table["verified"]
        if value == "":
            self.warn(file, (*path, "verified"), f"not verified yet; source: {table.get('source')}")
            return None
        if not isinstance(value, date):
            self.error(file, (*path, "verified"), 'must be a date like 2026-01-31 or ""')
            return None
        if self.today - value > STALE_AFTER:
            self.warn(file, (*path, "verified"), f"verified {value}, over 12 months ago")
        return value
