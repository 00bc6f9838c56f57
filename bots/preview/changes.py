"""What a content change alters: the replies whose text or facts differ, line by line."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

from bots.preview.replies import Combination, ReplyView

ADDED = "+"
REMOVED = "-"
SAME = " "
FOLDED = "…"
"""Marks a run of unchanged lines left out (its text says how many)."""
CONTEXT = 2
"""Unchanged lines kept around each change where a change is shown folded."""


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a reply, marked added, removed or unchanged."""

    mark: str
    text: str


@dataclass(frozen=True, slots=True)
class Change:
    """A reply that differs between two versions of the content."""

    combination: Combination
    lines: list[DiffLine]

    @property
    def added(self) -> int:
        """How many lines the change adds."""
        return sum(line.mark == ADDED for line in self.lines)

    @property
    def removed(self) -> int:
        """How many lines the change removes."""
        return sum(line.mark == REMOVED for line in self.lines)

    @property
    def edits(self) -> tuple[DiffLine, ...]:
        """Only the added and removed lines: replies with the same edits changed alike."""
        return tuple(line for line in self.lines if line.mark != SAME)

    def folded(self, context: int = CONTEXT) -> list[DiffLine]:
        """The lines with long unchanged runs left out, ``context`` lines kept around each
        change."""
        near = {
            i + offset
            for i, line in enumerate(self.lines)
            if line.mark != SAME
            for offset in range(-context, context + 1)
        }
        shown: list[DiffLine] = []
        skipped = 0
        for i, line in enumerate(self.lines):
            if i in near:
                if skipped:
                    shown.append(DiffLine(FOLDED, f"{skipped} unchanged lines"))
                    skipped = 0
                shown.append(line)
            else:
                skipped += 1
        if skipped:
            shown.append(DiffLine(FOLDED, f"{skipped} unchanged lines"))
        return shown


@dataclass(frozen=True, slots=True)
class ChangeGroup:
    """Replies changed alike (the same lines added and removed), shown once."""

    changes: list[Change]

    @property
    def example(self) -> Change:
        """The first reply of the group, whose lines the page shows."""
        return self.changes[0]


def grouped(changes: list[Change]) -> list[ChangeGroup]:
    """Changes with the same edits together, in the order each first appears."""
    groups: dict[tuple[DiffLine, ...], list[Change]] = {}
    for change in changes:
        groups.setdefault(change.edits, []).append(change)
    return [ChangeGroup(members) for members in groups.values()]


def review_lines(view: ReplyView) -> list[str]:
    """What a reviewer approves of a reply: its text as a terminal shows it (buttons with
    their links), each shown resource's facts, and the full links of its sources."""
    lines = view.console.splitlines()
    lines += [
        f"{shown.name} · {fact.label}: {fact.text}"
        for shown in view.resources
        for fact in shown.facts
    ]
    lines += [f"Source: {source}" for source in view.reply.sources]
    return lines


def compare(
    now: Mapping[Combination, list[str]], before: Mapping[Combination, list[str]]
) -> list[Change]:
    """The replies whose review lines differ, in order; a reply only one side has counts
    as wholly added or removed."""
    changes = []
    for combination in sorted(set(now) | set(before), key=Combination.order):
        new = now.get(combination, [])
        old = before.get(combination, [])
        if new != old:
            changes.append(Change(combination, diff(old, new)))
    return changes


def diff(old: list[str], new: list[str]) -> list[DiffLine]:
    """The new text with every line marked: unchanged, added, or removed (shown where it
    was)."""
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            lines += [DiffLine(SAME, text) for text in new[j1:j2]]
            continue
        lines += [DiffLine(REMOVED, text) for text in old[i1:i2]]
        lines += [DiffLine(ADDED, text) for text in new[j1:j2]]
    return lines
