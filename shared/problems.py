"""Problems found in a content or config file, each pointing at file, line and key."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.tomlpos import KeyLines, KeyPath


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding; ``warning`` ones do not stop the bot unless checks are strict."""

    file: str
    line: int
    key: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        level = "warning" if self.warning else "error"
        # A value from the environment has no line: say where it came from instead.
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{level}: {where}: {self.key}: {self.message}"


class ProblemsError(Exception):
    """Raised when a file cannot be used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(self.problems_text()))

    def problems_text(self) -> list[str]:
        """Each problem as ``error: file:line: key: message`` (or ``warning: ...``)."""
        return [str(p) for p in self.problems]


_TOML_LINE = re.compile(r"at line (\d+)")


def format_key(path: KeyPath) -> str:
    """Render a key path the way it reads in the file: ``resources[2].en.name``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(file)"


class TomlFile:
    """A parsed TOML file that can report problems at the line of a key."""

    def __init__(self, path: Path, display: str) -> None:
        self.path = path
        self.display = display
        text = path.read_text(encoding="utf-8")
        self.lines = KeyLines(text)
        self.data: dict[str, Any] = tomllib.loads(text)

    @classmethod
    def load(cls, path: Path, display: str | None = None) -> TomlFile:
        """Read and parse ``path``; a syntax or encoding error becomes one Problem."""
        shown = display or str(path)
        try:
            return cls(path, shown)
        except tomllib.TOMLDecodeError as error:
            match = _TOML_LINE.search(str(error))
            line = int(match.group(1)) if match else 1
            raise ProblemsError([Problem(shown, line, "(syntax)", str(error))]) from None
        except UnicodeDecodeError as error:
            raise ProblemsError([Problem(shown, 1, "(file)", f"not UTF-8: {error}")]) from None
        except OSError as error:
            raise ProblemsError(
                [Problem(shown, 1, "(file)", error.strerror or str(error))]
            ) from None

    def problem(self, path: KeyPath, message: str, *, warning: bool = False) -> Problem:
        """A problem located at ``path`` (or its closest parent present in the file)."""
        return Problem(self.display, self.lines.line(path), format_key(path), message, warning)
