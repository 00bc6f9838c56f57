"""Reading the operator's endpoints in tests: serve them on a free port of 127.0.0.1, GET a
path, read a metric, and list label values outside the closed sets the privacy rule allows."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bots.monitoring import Monitoring, monitoring
from shared.commands import TOPICS
from shared.core import Core
from shared.metrics import KINDS, NONE, OTHER, PIN_STATES, STORE_ACTIONS, Refusal

BOTH = ("telegram", "discord")


@contextlib.asynccontextmanager
async def serving(core: Core, platforms: Iterable[str] = BOTH) -> AsyncIterator[Monitoring]:
    """The endpoints of ``core``, on a free port of 127.0.0.1, for the block."""
    async with monitoring(core, "127.0.0.1:0", platforms) as server:
        assert server is not None
        yield server


async def get(server: Monitoring, path: str) -> tuple[int, str]:
    """Status and body of ``GET path``."""
    host, port = server.addresses[0]
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://{host}:{port}{path}") as response,
    ):
        return response.status, await response.text()


def samples(text: str) -> list[Sample]:
    """Every sample of a ``/metrics`` body."""
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(text: str, name: str, **labels: str) -> float:
    """The sample ``name`` with exactly ``labels`` in a ``/metrics`` body (0 when absent)."""
    found = [s.value for s in samples(text) if s.name == name and s.labels == labels]
    return found[0] if found else 0.0


def closed_sets(core: Core) -> dict[str, set[str]]:
    """Every value each label of ours may take."""
    return {
        "platform": {*core.metrics.platforms, OTHER},
        "kind": {*KINDS, OTHER},
        "topic": {*TOPICS, NONE, OTHER},
        "region": {*core.content.regions, NONE, OTHER},
        "locale": {*core.content.locales, OTHER},
        "reason": {*Refusal, OTHER},
        "action": {*(a.replace(" ", "_") for a in STORE_ACTIONS), OTHER},
        "state": set(PIN_STATES),
    }


def outside_closed_sets(text: str, core: Core) -> list[str]:
    """``name{label=value}`` for each label value of a ``/metrics`` body outside its closed
    set (histogram bucket bounds, ``le``, are numbers of our own)."""
    allowed = closed_sets(core)
    found = []
    for sample in samples(text):
        for label, shown in sample.labels.items():
            if label == "le":
                float(shown)
            elif shown not in allowed.get(label, set()):
                found.append(f"{sample.name}{{{label}={shown!r}}}")
    return found
