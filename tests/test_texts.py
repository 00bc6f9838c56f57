"""UI texts and the values the code gives them (shared/content/ui.py) agree, both ways: the
code gives each text exactly the values declared for it, and ``safety-bot check`` refuses a
text with a placeholder the code does not fill, or that leaves out a value it gives."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from shared.content import UI_TEXTS, default_content_path, load_content
from shared.problems import ProblemsError
from tests.conftest import PROJECT

# How each way of asking for a UI text by key passes its values: the key's position, and the
# values it gives besides its keyword arguments.
ASKING: dict[str, tuple[int, frozenset[str]]] = {
    "text": (1, frozenset()),
    "ui": (1, frozenset()),
    "notice": (1, frozenset()),
    "refuse": (1, frozenset()),
    "about_value": (1, frozenset({"value"})),
    "refuse_invalid": (1, frozenset({"value", "choices"})),
    "for_members": (1, frozenset()),
}


def asked(root: Path) -> list[tuple[str, int, str, frozenset[str] | None]]:
    """(file, line, key, values given) of every call that asks for a UI text by a literal key
    in shared/ and bots/ under ``root``; values None where they are unpacked (``**shown``)."""
    found = []
    for folder in ("shared", "bots"):
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                    continue
                way = ASKING.get(node.func.attr)
                if way is None or len(node.args) <= way[0]:
                    continue
                key = node.args[way[0]]
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    continue
                names = [k.arg for k in node.keywords]
                given = None if None in names else way[1] | {n for n in names if n}
                found.append((path.relative_to(root).as_posix(), node.lineno, key.value, given))
    return found


def mismatches(root: Path) -> list[str]:
    """Calls that give a UI text other values than it is declared to show."""
    wrong = []
    for file, line, key, given in asked(root):
        if key not in UI_TEXTS:
            wrong.append(f"{file}:{line}: {key} is not a declared UI text")
        elif given is not None and given != UI_TEXTS[key]:
            wrong.append(
                f"{file}:{line}: {key} given {sorted(given)}, shows {sorted(UI_TEXTS[key])}"
            )
    return wrong


def test_the_code_gives_each_text_exactly_its_values() -> None:
    assert len(asked(PROJECT)) >= 40, "the scan finds the code's texts"
    assert mismatches(PROJECT) == []


def broken(tmp_path: Path, key: str, old: str, new: str) -> Path:
    """The shipped content with ``key`` of every locale changed from ``old`` to ``new``."""
    copy = tmp_path / "messages"
    shutil.copytree(default_content_path(), copy)
    for toml in (copy / "locales").glob("*.toml"):
        lines = toml.read_text(encoding="utf-8").splitlines(keepends=True)
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{key} = "))
        assert old in lines[at], (toml, lines[at])
        lines[at] = lines[at].replace(old, new)
        toml.write_text("".join(lines), encoding="utf-8")
    return copy


@pytest.mark.parametrize(
    ("key", "old", "new", "message"),
    [
        (
            "pin_done",
            '"\n',
            ' {topic}"\n',
            "ui.pin_done: {topic} is not a value the bot gives this text (it gives: none)",
        ),
        (
            "cooldown",
            "{seconds}",
            "a few",
            "ui.cooldown: does not show {seconds}, which the bot gives it",
        ),
    ],
)
def test_check_names_a_placeholder_the_code_does_not_fill(
    tmp_path: Path, key: str, old: str, new: str, message: str
) -> None:
    content = broken(tmp_path, key, old, new)
    with pytest.raises(ProblemsError) as error:
        load_content(content)
    lines = (content / "locales" / "en.toml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith(f"{key} = "))
    assert f"messages/locales/en.toml:{line}: {message}" in str(error.value)
