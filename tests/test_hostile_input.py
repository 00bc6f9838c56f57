"""Property tests: nothing a person types, and no broken file, raises anything unexpected.

`make test` runs the fast profile; `make fuzz` runs the long one (HYPOTHESIS_PROFILE=long).
"""

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.commands import COMMANDS
from shared.config import Config, load_config
from shared.content import Content, default_content_path, load_content
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


@pytest.fixture(scope="module")
def hostile_core(content: Content, tmp_path_factory: pytest.TempPathFactory) -> Core:
    config = Config(database=tmp_path_factory.mktemp("db") / "x.sqlite3", cooldown_commands=3)
    return Core(content, None, config)


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
    assert all(str(p).startswith(f"{path}:") for p in problems)


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
