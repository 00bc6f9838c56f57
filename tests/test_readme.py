"""The READMEs' examples are run, so they cannot drift from what the bot does: the console
transcript exactly, every command typed in the text, every ``safety-bot ask`` line."""

from __future__ import annotations

import difflib
import re
import shlex
from pathlib import Path

import pytest

from bots.cli import main
from shared.commands import BY_NAME, Option
from shared.core import Core
from tests import readme

PROJECT = Path(__file__).resolve().parent.parent
DOCS = (PROJECT / "README.md", PROJECT / "messages" / "README.md")
_CODE = re.compile(r"`([^`\n]+)`")
_ASK = re.compile(r"safety-bot ask .*")
NOT_OURS = {"/", "/start", "/language", "/metrics", "/healthz", "/readyz"} | {
    "/newbot",
    "/revoke",
    "/setprivacy",
    "/setjoingroups",
    "/setcommands",
}
"""Commands in the READMEs that are not in the bot's table: a bare slash, Telegram's
``/start`` (tests/telegram/test_commands.py), the console's ``/language`` (tests/test_cli.py),
BotFather's, and the metrics server's paths (tests/test_monitoring.py)."""


def test_the_console_transcript_is_what_the_bot_says() -> None:
    documented = readme.documented(readme.README.read_text(encoding="utf-8"))
    typed = readme.typed_lines(documented)
    assert len(typed) >= 3, "the transcript shows a few commands"
    actual = readme.transcript(typed)
    if actual != documented:
        diff = "".join(
            difflib.unified_diff(
                documented.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                "README.md (documented)",
                "the console (now)",
            )
        )
        pytest.fail(
            "The README's console transcript is not what the bot says now. Update it with\n"
            "    .venv/bin/python -m tests.readme --write\n"
            f"and read the change:\n{diff}",
            pytrace=False,
        )


def typed_commands() -> list[str]:
    """Every ``/command ...`` written in the READMEs' text as a person would type it;
    syntax summaries (``/setup region language``, ``/unpin_advice [report]``) are not."""
    names = {option.value for option in Option} | {"channel"}
    found = []
    for path in DOCS:
        for span in _CODE.findall(path.read_text(encoding="utf-8")):
            words = span.split()
            if not span.startswith("/") or any(c in span for c in "[]<>…") or "..." in span:
                continue
            if names & set(words[1:]) or words[0] in NOT_OURS:
                continue
            found.append(span)
    return list(dict.fromkeys(found))


UNREAD = {"/report Narnia": {"region": "Narnia"}, "/help-threatened they are blackmailing us": {}}
"""Examples the README gives of what is corrected or not read, with what is read of them."""


@pytest.mark.parametrize("typed", typed_commands())
def test_every_command_the_readmes_show_is_read_in_full(core: Core, typed: str) -> None:
    read = core.read(typed)
    assert read is not None
    assert read.name is not None, f"{typed!r} names no command"
    if typed in UNREAD:
        assert dict(read.options) == UNREAD[typed]
        assert core.grammar.region(read.options.get("region")) is None
        return
    assert len(read.options) == len(typed.split()) - 1, f"{typed!r}: a word is not an option"
    for option, value in read.options.items():
        assert core.grammar.value(Option(option), value) is not None, (typed, option, value)
    assert set(read.options) <= {o.value for o in BY_NAME[read.name].options}


def ask_lines() -> list[str]:
    """Every ``safety-bot ask`` example in the READMEs, optional parts included."""
    lines = []
    for path in DOCS:
        for found in _ASK.findall(path.read_text(encoding="utf-8")):
            line = found.split("`")[0].split("  #")[0].strip()
            lines.append(line.replace("[", "").replace("]", ""))
    return list(dict.fromkeys(lines))


def test_the_readmes_show_examples_of_ask() -> None:
    assert len(ask_lines()) >= 3


@pytest.mark.parametrize("line", ask_lines())
def test_every_ask_example_runs(
    line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no config.toml of the developer's
    args = shlex.split(line)[1:]
    assert main(args) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip()
