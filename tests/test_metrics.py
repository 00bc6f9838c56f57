"""The metrics themselves, without a platform: labels only from closed sets whatever a person
types, every store action the code reports has its label, latency measured once per event,
pinned-post states that add up, and ``[metrics] listen`` validated."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import generate_latest

from bots.registry import load_config
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.metrics import NONE, OTHER, STORE_ACTIONS, Metrics, Refusal
from shared.models import Community, Reply, Request
from shared.problems import ProblemsError
from tests.conftest import PROJECT
from tests.scrape import outside_closed_sets
from tests.test_hostile_input import commands, options

GAUGE = "safety_bot_pinned_posts"


def answers(metrics: Metrics, **labels: str) -> float:
    return metrics.registry.get_sample_value("safety_bot_answers_total", labels) or 0.0


def exposed(metrics: Metrics) -> str:
    """What ``/metrics`` would serve."""
    return generate_latest(metrics.registry).decode()


def test_advice_is_counted_by_platform_topic_region_and_locale(core: Core) -> None:
    reply = core.advice("report", "fr", "GB", None)
    core.metrics.replied("telegram", reply)
    core.metrics.replied("telegram", reply)
    labels = {"platform": "telegram", "kind": "advice", "topic": "report", "region": "GB"}
    assert answers(core.metrics, **labels, locale="fr") == 2
    core.metrics.replied("discord", core.help("en"))
    notice = {"kind": "notice", "topic": NONE, "region": NONE, "locale": "en"}
    assert answers(core.metrics, platform="discord", **notice) == 1


def test_values_outside_the_closed_sets_become_other(core: Core) -> None:
    typed = Reply(
        title="x", topic="SentinelTopic", region="SentinelRegion", locale="SentinelLocale"
    )
    core.metrics.replied("SentinelPlatform", typed)
    core.metrics.pointed("SentinelPlatform", "SentinelCommand", "ZZ", "zz")
    core.metrics.failed("SentinelPlatform")
    core.metrics.store_failed("SentinelAction")
    other = {"platform": OTHER, "region": OTHER, "locale": OTHER}
    assert answers(core.metrics, kind="advice", topic=OTHER, **other) == 1
    assert answers(core.metrics, kind="pointer", topic=NONE, **other) == 1
    assert core.metrics.registry.get_sample_value("safety_bot_errors_total", {"platform": OTHER})
    failures = {"action": OTHER}
    assert core.metrics.registry.get_sample_value("safety_bot_store_failures_total", failures)
    assert "Sentinel" not in exposed(core.metrics)
    assert outside_closed_sets(exposed(core.metrics), core) == []


@given(
    command=commands,
    opts=options,
    locale=st.one_of(st.none(), st.text(max_size=20)),
    platform=st.text(max_size=20),
    in_group=st.booleans(),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_nothing_a_person_types_creates_a_series(
    hostile_core: Core,
    command: str,
    opts: dict[str, str],
    locale: str | None,
    platform: str,
    in_group: bool,
) -> None:
    community = Community("telegram", "SentinelGroup") if in_group else None
    request = Request(command, opts, locale, community, user_key="SentinelUser")
    reply = asyncio.run(hostile_core.handle(request))
    hostile_core.metrics.replied(platform, reply)
    hostile_core.metrics.pointed(platform, command, opts.get("region", ""), locale or "")
    assert outside_closed_sets(exposed(hostile_core.metrics), hostile_core) == []


def _reported_actions(path: Path) -> list[tuple[str, int, str]]:
    """(file, line, action) of each literal action passed to ``store_failed`` or ``guarded``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr in ("store_failed", "guarded") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((path.name, node.lineno, first.value))
    return found


def test_every_store_action_in_the_code_has_its_own_label() -> None:
    reported = [
        found
        for folder in ("shared", "bots")
        for path in sorted((PROJECT / folder).rglob("*.py"))
        for found in _reported_actions(path)
    ]
    assert len(reported) >= 10
    unknown = [found for found in reported if found[2] not in STORE_ACTIONS]
    assert unknown == [], "add these actions to shared.metrics.STORE_ACTIONS"


def test_store_failures_are_counted_by_action(core: Core) -> None:
    core.store_failed("read settings")
    core.store_failed("read settings")  # logged once a minute, counted every time
    failures = "safety_bot_store_failures_total"
    assert core.metrics.registry.get_sample_value(failures, {"action": "read_settings"}) == 2
    # Every action is there from the start, at 0, so alerts work before the first failure.
    assert core.metrics.registry.get_sample_value(failures, {"action": "save_settings"}) == 0


async def test_refusals_are_counted_by_reason(core: Core) -> None:
    group = Community("telegram", "1")
    await core.handle(Request("/setup", {"region": "GB"}, community=group))
    await core.handle(Request("/setup", {"region": "GB"}))
    await core.handle(Request("/no-such-command"))
    await core.handle(Request("/pin-advice", {"topic": "nope"}, community=group, is_moderator=True))
    refusals = {
        reason.value: core.metrics.registry.get_sample_value(
            "safety_bot_refusals_total", {"reason": reason.value}
        )
        for reason in Refusal
    }
    assert refusals == {
        "cooldown": 0,
        "unknown_command": 1,
        "not_in_community": 1,
        "not_moderator": 1,
        "invalid_option": 1,
        "bot_missing_right": 0,
    }


async def test_cooldown_refusals_are_counted(content: Content) -> None:
    core = Core(content, None, Config(cooldown_commands=1, cooldown_seconds=60))
    for _ in range(3):
        group = Community("telegram", "SentinelGroup")
        await core.handle(Request("/setup", community=group, user_key="SentinelUser"))
    cooldowns = {"reason": "cooldown"}
    assert core.metrics.registry.get_sample_value("safety_bot_refusals_total", cooldowns) == 2


def test_latency_is_measured_once_from_the_event(core: Core) -> None:
    async def event() -> None:
        core.metrics.received()
        await asyncio.sleep(0.02)
        core.metrics.replied("discord", core.help("en"))
        core.metrics.replied("discord", core.help("en"))  # a second message: not a second event

    async def both() -> None:
        await asyncio.gather(event(), event())
        core.metrics.replied("discord", core.help("en"))  # no event in this task: not timed

    asyncio.run(both())
    registry = core.metrics.registry
    platform = {"platform": "discord"}
    assert registry.get_sample_value("safety_bot_answer_seconds_count", platform) == 2
    total = registry.get_sample_value("safety_bot_answer_seconds_sum", platform) or 0
    assert 0.04 <= total < 1
    fast = registry.get_sample_value("safety_bot_answer_seconds_bucket", {**platform, "le": "0.01"})
    assert fast == 0
    assert (
        answers(
            core.metrics, platform="discord", kind="notice", topic=NONE, region=NONE, locale="en"
        )
        == 5
    )


def test_pinned_post_states_are_disjoint(core: Core) -> None:
    core.metrics.pinned(
        {"telegram": {"posts": 10, "stale": 4, "cannot_edit": 1}, "discord": _no_posts()}
    )
    registry = core.metrics.registry

    def state(platform: str, name: str) -> float | None:
        return registry.get_sample_value(GAUGE, {"platform": platform, "state": name})

    assert [state("telegram", s) for s in ("current", "stale", "cannot_edit")] == [6, 3, 1]
    assert [state("discord", s) for s in ("current", "stale", "cannot_edit")] == [0, 0, 0]


def _no_posts() -> dict[str, int]:
    return {"posts": 0, "stale": 0, "cannot_edit": 0}


# -- [metrics] listen ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listen", "address"),
    [
        ("127.0.0.1:9108", ("127.0.0.1", 9108)),
        ("[::1]:9108", ("::1", 9108)),
        ("localhost:0", ("localhost", 0)),
        ("", None),
    ],
)
def test_listen_address(tmp_path: Path, listen: str, address: tuple[str, int] | None) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[metrics]\nlisten = "{listen}"\n', encoding="utf-8")
    assert load_config(path, env={}).metrics.address == address


@pytest.mark.parametrize(
    "listen", ["9108", ":9108", "127.0.0.1", "::1:9108", "host:99999", "host:port", "[]:1"]
)
def test_a_bad_listen_address_names_file_line_and_key(tmp_path: Path, listen: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[bot]\n\n[metrics]\nlisten = "{listen}"\n', encoding="utf-8")
    with pytest.raises(ProblemsError) as raised:
        load_config(path, env={})
    [problem] = raised.value.problems
    assert (problem.line, problem.key) == (4, "metrics.listen")
    assert "host:port" in problem.message


def test_no_metrics_server_by_default() -> None:
    assert Config().metrics.address is None
    example = load_config(PROJECT / "config.example.toml", env={})
    assert example.metrics.address is None
