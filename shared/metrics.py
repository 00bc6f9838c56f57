"""What an operator can see of one process: Prometheus metrics and readiness.

Privacy: no label or value names a person, a chat, a guild or a community. Every label value
comes from a closed set fixed at start (platform names, topics, the content's region and locale
codes, reply kinds, refusal reasons, store actions); anything else becomes ``other``, so
nothing a person types can create a series. Counts are totals over the whole process.

The adapters call the recording methods where things happen (one line each); the HTTP server
in :mod:`bots.monitoring` serves :attr:`Metrics.registry`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from shared.commands import TOPICS
from shared.models import Reply, ReplyKind

OTHER = "other"
"""The label of any value outside its closed set."""
NONE = "none"
"""The topic and region of an answer that is not advice."""
POINTER = "pointer"
"""The kind of a Telegram group's neutral line that opens the private chat."""
KINDS = (*(kind.value for kind in ReplyKind), POINTER)
PIN_STATES = ("current", "stale", "cannot_edit")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Seconds; 2.5 and 5 bracket Discord's 3 s limit for a first answer."""


class Refusal(StrEnum):
    """Why a command was refused: the ``reason`` label of ``safety_bot_refusals_total``."""

    COOLDOWN = "cooldown"
    UNKNOWN_COMMAND = "unknown_command"
    NOT_IN_COMMUNITY = "not_in_community"
    """A moderator command outside a server or group."""
    NOT_MODERATOR = "not_moderator"
    INVALID_OPTION = "invalid_option"
    BOT_MISSING_RIGHT = "bot_missing_right"
    """The bot lacks a right it needs to post or pin advice there."""


STORE_ACTIONS = (
    "read settings",
    "save settings",
    "forget a community",
    "read an operator value",
    "save an operator value",
    "record a pinned post",
    "forget pinned posts",
    "read pinned posts",
    "record a refreshed pinned post",
    "take the refresh lease",
    "drop the refresh lease",
    "list pinned posts",
    "count pinned posts",
    "reconcile stored servers with joined ones",
)
"""Every ``action`` the code passes to ``Core.store_failed``; the label is its snake_case form."""

_KINDS = frozenset(KINDS)
_TOPICS = frozenset(TOPICS)

# The moment the platform event being handled arrived, per task: python-telegram-bot and
# discord.py handle each update or interaction in a task of its own, so the answer sent later
# in the same task is measured from it without passing a start time through every call.
_received: ContextVar[float | None] = ContextVar("safety_bot_received", default=None)


def _label(value: str | None, allowed: Iterable[str]) -> str:
    return value if value is not None and value in allowed else OTHER


def _action_label(action: str) -> str:
    return action.replace(" ", "_") if action in STORE_ACTIONS else OTHER


class Metrics:
    """The process's counters, histogram and gauges, in a registry of its own, and what
    :mod:`bots.monitoring` asks to decide readiness."""

    def __init__(
        self, regions: Iterable[str], locales: Iterable[str], platforms: Iterable[str] = ()
    ) -> None:
        self.regions = frozenset(regions)
        self.locales = frozenset(locales)
        self.platforms = tuple(platforms)
        """The platforms the bot has adapters for: the ``platform`` label's values."""
        self._platforms = frozenset(self.platforms)
        self.registry = CollectorRegistry(auto_describe=True)
        self._answers = Counter(
            "safety_bot_answers",
            "Answers sent to a person (a command, a button or a link), by platform, reply kind,"
            " and for advice its topic, region and language.",
            ("platform", "kind", "topic", "region", "locale"),
            registry=self.registry,
        )
        self._refusals = Counter(
            "safety_bot_refusals",
            "Commands refused, by reason (also those refused silently in a group).",
            ("reason",),
            registry=self.registry,
        )
        self._errors = Counter(
            "safety_bot_errors",
            "Updates or interactions whose handling broke (the person got an apology where"
            " possible).",
            ("platform",),
            registry=self.registry,
        )
        self._store_failures = Counter(
            "safety_bot_store_failures",
            "Storage calls that failed, by action (advice goes on with default settings).",
            ("action",),
            registry=self.registry,
        )
        self._latency = Histogram(
            "safety_bot_answer_seconds",
            "Seconds from a platform event reaching the bot to its answer being sent.",
            ("platform",),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._pinned = Gauge(
            "safety_bot_pinned_posts",
            "Pinned advice posts in the store, by platform and state (disjoint: current, stale,"
            " cannot_edit); the same figures in every process sharing a store.",
            ("platform", "state"),
            registry=self.registry,
        )
        self._connected = Gauge(
            "safety_bot_platform_connected",
            "1 while the platform is connected (Telegram polling or its webhook serving;"
            " Discord's gateway ready), else 0.",
            ("platform",),
            registry=self.registry,
        )
        # Series that exist from the start read 0 rather than missing, so rates and alerts
        # work before the first event.
        for reason in Refusal:
            self._refusals.labels(reason.value)
        for action in (*STORE_ACTIONS, OTHER):
            self._store_failures.labels(_action_label(action))
        for platform in self.platforms:
            self._errors.labels(platform)
        # The hot path looks its series up in dicts of its own: prometheus-client's
        # ``labels()`` checks and locks on every call. Keys are label values, never raw input.
        self._latency_of = {p: self._latency.labels(p) for p in (*self.platforms, OTHER)}
        self._answers_of: dict[tuple[str, ...], Counter] = {}
        self._probes: dict[str, Callable[[], bool]] = {}

    # -- recording (the adapters' and the core's one-line hooks) ----------------------------

    def received(self) -> None:
        """A platform event reached the bot: the next answer in this task is timed from now."""
        _received.set(time.perf_counter())

    def replied(self, platform: str, reply: Reply) -> None:
        """An answer went to the person."""
        # ReplyKind is a StrEnum: the member is its own label value (``.value`` costs more).
        if reply.kind is ReplyKind.ADVICE and reply.topic is not None:
            self._answered(platform, reply.kind, reply.topic, reply.region, reply.locale)
        else:
            self._answered(platform, reply.kind, NONE, NONE, reply.locale)

    def pointed(self, platform: str, command: str, region: str, locale: str) -> None:
        """A group got the neutral line that opens the private chat on ``command``."""
        topic = command if command in _TOPICS else NONE
        self._answered(platform, POINTER, topic, region, locale)

    def _answered(self, platform: str, kind: str, topic: str, region: str, locale: str) -> None:
        platform = platform if platform in self._platforms else OTHER
        key = (
            platform,
            kind if kind in _KINDS else OTHER,
            topic if topic == NONE or topic in _TOPICS else OTHER,
            region if region == NONE or region in self.regions else OTHER,
            locale if locale in self.locales else OTHER,
        )
        series = self._answers_of.get(key)
        if series is None:
            series = self._answers_of[key] = self._answers.labels(*key)
        series.inc()
        started = _received.get()
        if started is not None:
            # Only the first answer to an event is its latency.
            _received.set(None)
            self._latency_of[platform].observe(time.perf_counter() - started)

    def refused(self, reason: Refusal) -> None:
        """A command was refused."""
        self._refusals.labels(_label(reason, tuple(Refusal))).inc()

    def failed(self, platform: str) -> None:
        """Handling an update or interaction broke."""
        self._errors.labels(_label(platform, self._platforms)).inc()

    def store_failed(self, action: str) -> None:
        """A storage call failed (``action`` is one of :data:`STORE_ACTIONS`)."""
        self._store_failures.labels(_action_label(action)).inc()

    def pinned(self, figures: Mapping[str, Mapping[str, int]]) -> None:
        """Set the pinned-post gauges from :meth:`shared.pins.Pins.summary`'s figures."""
        for platform, counts in figures.items():
            posts, stale, cannot_edit = counts["posts"], counts["stale"], counts["cannot_edit"]
            states = {
                "current": posts - stale,
                "stale": stale - cannot_edit,
                "cannot_edit": cannot_edit,
            }
            for state, value in states.items():
                self._pinned.labels(_label(platform, self._platforms), state).set(value)

    # -- readiness ------------------------------------------------------------------------

    def watch(self, platform: str, probe: Callable[[], bool]) -> None:
        """The adapter of ``platform`` is running: ``probe`` tells whether it is connected."""
        self._probes[platform] = probe

    def unwatch(self, platform: str) -> None:
        """The adapter of ``platform`` stopped."""
        self._probes.pop(platform, None)

    def connected(self, platform: str) -> bool:
        """Whether ``platform`` is running and connected now (also sets its gauge)."""
        probe = self._probes.get(platform)
        up = probe is not None and probe()
        if platform in self._platforms:
            self._connected.labels(platform).set(1 if up else 0)
        return up
