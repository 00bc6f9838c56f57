"""The README's console transcript, made by running the console: checked by
tests/test_readme.py, and rewritten in place after a content change with

    .venv/bin/python -m tests.readme --write

The transcript is the fenced block after the marker line :data:`MARKER`; its ``> `` lines are
what a person types, everything else is what the bot answers (exactly, in full).
"""

from __future__ import annotations

import asyncio
import io
import re
import sys
from pathlib import Path

from bots.app import build_core
from bots.console.session import run
from shared.config import Config

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- console transcript: checked by tests/test_readme.py -->"
PROMPT = "> "
START = "$ safety-bot console"
_BLOCK = re.compile(re.escape(MARKER) + r"\n```text\n(.*?)```\n", re.DOTALL)


class _Chunks(io.StringIO):
    """Keeps each write apart: the console writes each reply in one piece."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []

    def write(self, text: str) -> int:
        self.chunks.append(text)
        return len(text)


def documented(readme: str) -> str:
    """The transcript as the README has it."""
    found = _BLOCK.search(readme)
    if found is None:
        raise AssertionError(f"README.md has no transcript after {MARKER!r}")
    return found.group(1)


def typed_lines(transcript: str) -> list[str]:
    """What the person types in a transcript."""
    return [line[len(PROMPT) :] for line in transcript.splitlines() if line.startswith(PROMPT)]


async def _session(typed: list[str]) -> list[str]:
    # The console with built-in defaults and no config file, as a fresh clone runs it.
    core = build_core(Config())
    shown = _Chunks()
    await run(core, io.StringIO("".join(f"{line}\n" for line in typed)), shown)
    return [chunk.rstrip("\n") for chunk in shown.chunks]


def transcript(typed: list[str]) -> str:
    """What a console session shows for ``typed``, written as the README shows it."""
    welcome, *replies = asyncio.run(_session(typed))
    assert len(replies) == len(typed), "one reply per typed line"
    parts = [f"{START}\n{welcome}"]
    parts += [f"{PROMPT}{line}\n{reply}" for line, reply in zip(typed, replies, strict=True)]
    return "\n\n".join(parts) + "\n"


def write() -> bool:
    """Rewrite the README's transcript from a fresh session; True if it changed."""
    readme = README.read_text(encoding="utf-8")
    old = documented(readme)
    new = transcript(typed_lines(old))
    if new == old:
        return False
    block = f"{MARKER}\n```text\n{new}```\n"
    README.write_text(_BLOCK.sub(lambda _: block, readme, count=1), encoding="utf-8")
    return True


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit(f"usage: python -m tests.readme --write\n\n{__doc__}")
    print("README.md updated" if write() else "README.md is up to date")
