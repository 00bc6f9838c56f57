"""Small statistics helpers (no numpy needed)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def percentile(samples: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest rank) of ``samples``."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    """The median of several runs."""
    return statistics.median(values) if values else float("nan")


def summary(samples: Sequence[float]) -> dict[str, float]:
    """p50 and p99 of latency samples."""
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99)}
