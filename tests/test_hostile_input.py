"""Property tests: nothing a person types, and no broken file, raises anything unexpected.

`make test` runs the fast profile; `make fuzz` runs the long one (HYPOTHESIS_PROFILE=long).
"""

import asyncio
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.registry import load_config
from shared.commands import BY_NAME, COMMANDS, canonical_name
from shared.content import default_content_path, load_content
from shared.core import Core
from shared.models import Community, Reply, Request
from shared.problems import Problem, ProblemsError

COMMAND_WORDS = [f"/{c.name}" for c in COMMANDS] + [
    f"/{c.name.replace('-', '_')}" for c in COMMANDS
]
commands = st.one_of(st.sampled_from(COMMAND_WORDS), st.text(max_size=80))
option_values = st.one_of(
    st.sampled_from(["CA", "us", "INTL", "fr", "under18", "adult", "report", "help_threatened"]),
    st.text(max_size=200),
)
options = st.dictionaries(
    st.sampled_from(["region", "age", "topic", "language", "other"]), option_values, max_size=4
)


def problems_of(load: Callable[[], object]) -> list[Problem]:
    """The problems a load reports; none when the (still valid) file loads."""
    try:
        load()
    except ProblemsError as error:
        return error.problems
    return []


@given(
    command=commands,
    opts=options,
    locale=st.one_of(st.none(), st.text(max_size=20)),
    moderator=st.booleans(),
    in_group=st.booleans(),
    user=st.one_of(st.none(), st.text(max_size=30)),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_core_answers_anything(
    hostile_core: Core,
    command: str,
    opts: dict[str, str],
    locale: str | None,
    moderator: bool,
    in_group: bool,
    user: str | None,
) -> None:
    community = Community("console", "fuzz") if in_group else None
    request = Request(command, opts, locale, community, moderator, not in_group, user)
    reply = asyncio.run(hostile_core.handle(request))
    assert isinstance(reply, Reply)
    assert reply.title


@given(garbage=st.text(max_size=400))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_broken_config_fails_with_a_location(tmp_path: Path, garbage: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(garbage, encoding="utf-8")
    problems = problems_of(lambda: load_config(path, env={}))
    assert all(str(p).startswith(f"error: {path}:") for p in problems)


@given(
    name=st.sampled_from([c.name for c in COMMANDS]),
    separators=st.lists(st.sampled_from(["-", "_"]), min_size=3, max_size=3),
    upper=st.lists(st.booleans(), min_size=32, max_size=32),
    slash=st.booleans(),
    addressee=st.one_of(st.just(""), st.text(max_size=20).map("@{}".format)),
)
def test_commands_typed_any_way_are_recognised(
    name: str, separators: list[str], upper: list[bool], slash: bool, addressee: str
) -> None:
    """``/Help_Threatened@bot``, ``help-threatened``, ``HELP_threatened``: the same command."""
    words = name.split("-")
    typed = words[0] + "".join(sep + word for sep, word in zip(separators, words[1:], strict=False))
    typed = "".join(c.upper() if up else c for c, up in zip(typed, upper, strict=False))
    assert canonical_name(("/" if slash else "") + typed + addressee) == name


@given(typed=st.text(max_size=80))
def test_anything_else_is_a_command_or_nothing(typed: str) -> None:
    found = canonical_name(typed)
    assert found is None or found in BY_NAME


SCHEMA_KEYS = {
    "bot": ["default_region", "default_locale"],
    "storage": ["database"],
    "cooldown": ["commands", "seconds"],
    "logging": ["level"],
    "telegram": ["token", "base_url", "webhook_url", "webhook_secret", "listen", "port"],
    "discord": ["token", "shards", "shard_count", "shard_ids"],
    "unknown": ["key"],
}
toml_values = st.one_of(
    st.text(max_size=40).map(json.dumps),
    st.integers(min_value=-(2**63), max_value=2**63 - 1).map(str),
    st.floats().map(lambda f: "nan" if f != f else repr(f)),
    st.booleans().map(lambda b: str(b).lower()),
    st.lists(st.integers(min_value=-9, max_value=9), max_size=3).map(json.dumps),
)


@given(
    entries=st.lists(
        st.sampled_from([(s, k) for s, keys in SCHEMA_KEYS.items() for k in keys]).flatmap(
            lambda key: toml_values.map(lambda value: (*key, value))
        ),
        max_size=8,
        unique_by=lambda entry: entry[:2],
    ),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_config_values_of_any_type_load_or_fail_with_a_location(
    tmp_path: Path, entries: list[tuple[str, str, str]]
) -> None:
    """Well-formed TOML with known keys given values of every type: it loads, or every
    problem names the file and line."""
    by_section: dict[str, list[str]] = {}
    for section, key, value in entries:
        by_section.setdefault(section, []).append(f"{key} = {value}")
    text = "".join(f"[{s}]\n" + "\n".join(lines) + "\n" for s, lines in by_section.items())
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    problems = problems_of(lambda: load_config(path, env={}))
    assert all(str(p).startswith(f"error: {path}:") for p in problems), text


@pytest.fixture(scope="module")
def content_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("content") / "messages"
    shutil.copytree(default_content_path(), target)
    return target


@given(
    file=st.sampled_from(["topics.toml", "locales/en.toml", "locales/fr.toml", "regions/CA.toml"]),
    cut=st.integers(min_value=0, max_value=10_000),
    insert=st.text(max_size=60),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_corrupted_content_fails_with_file_and_line(
    content_copy: Path, file: str, cut: int, insert: str
) -> None:
    path = content_copy / file
    original = (default_content_path() / file).read_text(encoding="utf-8")
    at = cut % (len(original) + 1)
    path.write_text(original[:at] + insert + original[at:], encoding="utf-8")
    try:
        problems = problems_of(lambda: load_content(content_copy))
    finally:
        path.write_text(original, encoding="utf-8")
    for problem in problems:
        assert problem.file.startswith("messages/")
        assert problem.line >= 1
