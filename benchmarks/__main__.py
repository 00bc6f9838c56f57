"""``python -m benchmarks``: run every benchmark, print one table, write ``results.json``
and (when matplotlib is installed) ``latency.png``.

Each figure is the median over ``--runs`` runs (memory: one run). ``--quick`` is a smoke
test with few commands; its results are not comparable.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import core_bench, e2e, fleet_discord, fleet_telegram, pins_bench, processes
from benchmarks.child import GUILD_READY_TIMEOUT
from benchmarks.stats import median, summary
from shared.content import load_content
from tests.postgres import Server

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
CHART = HERE / "latency.png"
US_PER_MS = 1000
STORE_BACKENDS = ("sqlite", "postgres")
STORE_ROWS = (
    ("queries for a community's first command", "first_command_queries", ".0f"),
    ("queries per later command", "queries_per_cached_command", "g"),
    ("a community's first command p50 us", "first_command_p50_us", ".0f"),
    ("a community's first command p99 us", "first_command_p99_us", ".0f"),
    ("settings writes/s, one at a time", "writes_per_second", ".0f"),
    (f"settings writes/s, {core_bench.IN_FLIGHT} in flight", "concurrent_writes_per_second", ".0f"),
    ("uncached reads/s", "uncached_reads_per_second", ".0f"),
)


def machine() -> dict[str, Any]:
    return {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "discord.py": metadata.version("discord.py"),
        "python-telegram-bot": metadata.version("python-telegram-bot"),
    }


def _median_summary(runs: list[list[float]]) -> dict[str, float]:
    """p50 and p99 of each run, then the median of each over the runs."""
    each = [summary(samples) for samples in runs]
    return {key: median([s[key] for s in each]) for key in ("p50", "p99")}


def core_figures(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        key: {
            cache: _median_summary([run[key][cache] for run in runs]) for cache in ("cold", "warm")
        }
        for key in runs[0]
    }


def e2e_figures(found: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for bot, runs in found.items():
        figures[bot] = {
            "commands_per_second": median([r["commands_per_second"] for r in runs]),
            "fake_html_check_us": median([r["fake_html_check_us"] for r in runs]),
            **{f"{k}_us": v for k, v in _median_summary([r["latency_us"] for r in runs]).items()},
        }
    base, safety = figures[e2e.BASELINE], figures["safety-bot"]
    figures["ratio"] = safety["commands_per_second"] / base["commands_per_second"]
    figures["added_p50_us"] = safety["p50_us"] - base["p50_us"]
    figures["added_p99_us"] = safety["p99_us"] - base["p99_us"]
    same = figures[e2e.SAME_PAYLOAD]
    figures["ratio_same_payload"] = safety["commands_per_second"] / same["commands_per_second"]
    figures["own_p50_us"] = safety["p50_us"] - same["p50_us"]
    figures["commands_per_run"] = len(found[e2e.BASELINE][0]["latency_us"])
    return figures


def postgres_server(folder: Path) -> tuple[Server | None, str]:
    """A throwaway PostgreSQL 16 (pgserver), or None and why it could not start."""
    folder.mkdir()
    try:
        return Server(folder), ""
    except Exception as error:
        return None, f"{type(error).__name__}: {error}"


def store_figures(found: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per backend, the median over the runs of each figure; p50 and p99 of first commands."""
    figures: dict[str, Any] = {}
    for backend, runs in found.items():
        figures[backend] = {
            key: median([run[key] for run in runs]) for key in runs[0] if key != "first_command_us"
        }
        first = _median_summary([run["first_command_us"] for run in runs])
        figures[backend].update({f"first_command_{k}_us": v for k, v in first.items()})
    return figures


def startup_figures(found: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    return {
        name: {key: median([r[key] for r in runs]) for key in ("seconds", "rss_mb")}
        for name, runs in found.items()
    }


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def target(name: str, value: float, goal: str, passed: bool) -> None:
        rows.append({"target": name, "value": round(value, 3), "goal": goal, "passed": passed})

    for name in ("telegram", "discord"):
        if name in results:
            figures = results[name]
            target(
                f"{name} throughput ratio vs baseline",
                figures["ratio"],
                ">= 0.90",
                figures["ratio"] >= 0.90,
            )
            target(
                f"{name} throughput ratio vs the same payload (our own work)",
                figures["ratio_same_payload"],
                ">= 0.90",
                figures["ratio_same_payload"] >= 0.90,
            )
            target(
                f"{name} p99 added latency (ms)",
                figures["added_p99_us"] / US_PER_MS,
                "< 2",
                figures["added_p99_us"] < 2 * US_PER_MS,
            )
    if "core" in results:
        for cache in ("warm", "cold"):
            worst = max(results["core"].items(), key=lambda item: item[1][cache]["p99"])
            p99 = worst[1][cache]["p99"] / US_PER_MS
            target(f"core p99 ({cache} cache), worst: {worst[0]} (ms)", p99, "< 1", p99 < 1)
    for backend in STORE_BACKENDS:
        if backend in results.get("store", {}):
            queries = results["store"][backend]["queries_per_cached_command"]
            target(f"DB queries per command once cached, {backend}", queries, "0", queries == 0)
    if "startup" in results:
        both = results["startup"]["both"]["rss_mb"]
        target("RSS both adapters, at ready (MB)", both, "< 80", both < 80)
        for name in ("console", "telegram", "discord"):
            seconds = results["startup"][name]["seconds"]
            target(f"start-up to ready, {name} (s)", seconds, "< 1.5", seconds < 1.5)
    for name, figures in results.get("pins", {}).items():
        minutes = figures["projected_seconds"] / 60
        goal = pins_bench.GOAL_SECONDS / 60
        target(
            f"{name} pinned posts: projected minutes for {pins_bench.GOAL_POSTS:,}",
            minutes,
            f"<= {goal:g}",
            minutes <= goal,
        )
        target(
            f"{name} pinned posts: 429 answers",
            figures["rate_limited"],
            "0",
            not figures["rate_limited"],
        )
        wrong = figures["posts"] - min(figures["edited_once"], figures["recorded"])
        target(f"{name} pinned posts: not edited exactly once and recorded", wrong, "0", not wrong)
    fleet = results.get("fleet_telegram", {})
    if "two" in fleet:
        wrong = fleet["one"]["not_answered_once"] + fleet["two"]["not_answered_once"]
        target("Telegram processes: commands not answered exactly once", wrong, "0", not wrong)
    if "memory" in results:
        memory = results["memory"]
        after = memory["rss_after_commands_mb"]
        count = f"{memory['commands']:,}"
        target(f"RSS both adapters, after {count} commands (MB)", after, "< 80", after < 80)
        growth = memory["growth_mb"]
        target(f"RSS growth over {count} commands (MB)", growth, "< 5", growth < 5)
    return rows


def table(results: dict[str, Any]) -> str:
    lines = [
        f"safety-bot benchmarks  ({results['machine']['date']}, "
        f"{results['machine']['nproc']} CPUs, Python {results['machine']['python']}, "
        f"median of {results['runs']} runs)",
        "",
    ]
    if "core" in results:
        lines.append("1. Core: Core.handle + render, microseconds")
        lines.append(
            f"   {'platform/topic':32} {'cold p50':>9} {'cold p99':>9} "
            f"{'warm p50':>9} {'warm p99':>9}"
        )
        for key, figures in results["core"].items():
            cold, warm = figures["cold"], figures["warm"]
            lines.append(
                f"   {key:32} {cold['p50']:9.0f} {cold['p99']:9.0f} "
                f"{warm['p50']:9.1f} {warm['p99']:9.1f}"
            )
        lines.append("")
    for number, name in ((2, "telegram"), (3, "discord")):
        if name not in results:
            continue
        figures = results[name]
        lines.append(
            f"{number}. {name.capitalize()} end to end, {figures['commands_per_run']} "
            "commands one at a time"
        )
        lines.append(f"   {'bot':12} {'commands/s':>11} {'p50 us':>9} {'p99 us':>9}")
        for bot in (e2e.BASELINE, e2e.SAME_PAYLOAD, "safety-bot"):
            row = figures[bot]
            lines.append(
                f"   {bot:12} {row['commands_per_second']:11.0f} "
                f"{row['p50_us']:9.0f} {row['p99_us']:9.0f}"
            )
        lines.append(
            f"   ratio safety-bot / baseline: {figures['ratio']:.2f}; added latency "
            f"p50 {figures['added_p50_us']:.0f} us, p99 {figures['added_p99_us']:.0f} us"
        )
        lines.append(
            f"   ratio safety-bot / same payload: {figures['ratio_same_payload']:.2f}; "
            f"safety-bot's own work p50 {figures['own_p50_us']:.0f} us (the rest of the added "
            "latency is the library sending a bigger answer)"
        )
        fake_us = figures["safety-bot"]["fake_html_check_us"]
        if fake_us:
            lines.append(
                f"   (of safety-bot's latency, {fake_us:.0f} us per command is the fake "
                "checking the HTML as Telegram would)"
            )
        lines.append("")
    if "memory" in results or "startup" in results:
        lines.append("4. Memory (RSS, MB)")
        for name, figures in results.get("startup", {}).items():
            lines.append(f"   after start, {name:28} {figures['rss_mb']:7.1f}")
        memory = results.get("memory")
        if memory:
            lines.append(
                f"   both: ready {memory['rss_ready_mb']:.1f}, after warm-up "
                f"{memory['rss_warm_mb']:.1f}, after {memory['commands']:,} commands "
                f"{memory['rss_after_commands_mb']:.1f} (growth "
                f"{memory['growth_mb']:.1f}), with {memory['communities']:,} "
                f"communities stored and cached {memory['rss_communities_mb']:.1f}"
            )
        lines.append("")
    if "startup" in results:
        lines.append(
            f"5. Start-up, process start to ready, seconds (Discord's guild_ready_timeout "
            f"set to {GUILD_READY_TIMEOUT} s and included; the default 2 s excluded)"
        )
        for name, figures in results["startup"].items():
            lines.append(f"   {name:12} {figures['seconds']:6.2f}")
        lines.append("")
    if "store" in results:
        store = results["store"]
        backends = [b for b in STORE_BACKENDS if b in store]
        lines.append(f"{'6. Store':43}" + "".join(f"{b:>12}" for b in backends))
        for label, key, form in STORE_ROWS:
            cells = "".join(f"{store[b][key]:>12{form}}" for b in backends)
            lines.append(f"   {label:40}{cells}")
        if store.get("postgres_skipped"):
            lines.append(f"   PostgreSQL skipped: {store['postgres_skipped']}")
        lines.append("")
    if "pins" in results:
        lines.append(
            f"7. Pinned posts refreshed within the platforms' limits (one run; people asking "
            f"{pins_bench.ASKS_PER_SECOND:g} times a second meanwhile)"
        )
        lines.append(
            f"   {'platform':11} {'posts':>6} {'pace':>6} {'posts/s':>8} {'10,000 in':>10} "
            f"{'429s':>5} {'answers':>8} {'p50 ms':>7} {'p99 ms':>7}"
        )
        for name, figures in results["pins"].items():
            lines.append(
                f"   {name:11} {figures['posts']:6} {figures['configured']:6g} "
                f"{figures['posts_per_second']:8.1f} "
                f"{figures['projected_seconds'] / 60:8.1f} m {figures['rate_limited']:5} "
                f"{figures['answers']:8} {figures['answer_ms']['p50']:7.1f} "
                f"{figures['answer_ms']['p99']:7.1f}"
            )
        lines.append("")
    if "fleet_discord" in results:
        fleet = results["fleet_discord"]
        first = next(iter(fleet.values()))
        lines.append(
            f"8. Several processes, one Discord bot: a burst of {first['interactions']:,}"
            f" interactions over {fleet_discord.SHARDS} shards' servers, each answered once"
            f" (store: {first['store']}; one run)"
        )
        lines.append(
            f"   {'layout':14} {'interactions/s':>15} {'seconds':>8} {'per shard':>12}"
            f" {'fake CPU':>9} {'bots CPU':>10}"
        )
        for name, figures in fleet.items():
            shards = "/".join(map(str, figures["per_shard"]))
            lines.append(
                f"   {name:14} {figures['interactions_per_second']:15.0f}"
                f" {figures['seconds']:8.2f} {shards:>12} {figures['fake_cpu']:9.0%}"
                f" {'+'.join(f'{cpu:.0%}' for cpu in figures['bots_cpu']):>10}"
            )
        lines.append("")
    fleet = results.get("fleet_telegram", {})
    if fleet:
        lines.append(
            "9. Telegram, several processes: one burst through the fake as reverse proxy "
            "(webhook mode, one PostgreSQL)"
        )
        if "two" in fleet:
            lines.append(f"   {'processes':10} {'commands':>9} {'commands/s':>11} {'not once':>9}")
            for row in (fleet["one"], fleet["two"]):
                lines.append(
                    f"   {row['processes']:<10} {row['commands']:9} "
                    f"{row['commands_per_second']:11.0f} {row['not_answered_once']:9}"
                )
            lines.append(f"   ratio 2 processes / 1: {fleet['ratio']:.2f}")
        else:
            lines.append(f"   skipped: {fleet.get('skipped', 'no PostgreSQL')}")
        lines.append("")
    lines.append("Targets")
    for row in results["targets"]:
        mark = "PASS" if row["passed"] else "FAIL"
        lines.append(f"   {mark}  {row['target']}: {row['value']} (target {row['goal']})")
    return "\n".join(lines)


def chart(
    core_runs: list[dict[str, Any]], e2e_runs: dict[str, Any], path: Path, extra: Path | None
) -> str:
    """Box plots of latency distributions (the last run); skipped without matplotlib.

    ``extra`` is a folder holding matplotlib (``pip install --target``), searched last and
    only now, after every measurement, so it changes nothing that was measured.
    """
    if extra is not None:
        sys.path.append(str(extra))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "chart skipped: matplotlib is not installed (pip install matplotlib)"
    panels = []
    if core_runs:
        last = core_runs[-1]
        panels.append(("Core handle + render, warm (us)", {k: v["warm"] for k, v in last.items()}))
    for name, found in e2e_runs.items():
        panels.append(
            (
                f"{name} end to end (us)",
                {bot: runs[-1]["latency_us"] for bot, runs in found.items()},
            )
        )
    if not panels:
        return "chart skipped: nothing to draw"
    figure, axes = plt.subplots(len(panels), 1, figsize=(11, 4 * len(panels)))
    for axis, (title, series) in zip(
        figure.axes if len(panels) > 1 else [axes], panels, strict=True
    ):
        axis.boxplot(list(series.values()), orientation="horizontal", showfliers=False)
        axis.set_yticks(range(1, len(series) + 1), list(series), fontsize=7)
        axis.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return f"chart written to {path}"


async def run(args: argparse.Namespace) -> dict[str, Any]:
    content = load_content()
    results: dict[str, Any] = {"machine": machine(), "runs": args.runs}
    core_runs: list[dict[str, Any]] = []
    e2e_found: dict[str, Any] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="safety-bench-") as name:
        folder = Path(name)
        if "core" in args.only:
            print("core ...", file=sys.stderr, flush=True)
            for index in range(args.runs):
                sub = folder / f"core{index}"
                sub.mkdir()
                core_runs.append(await core_bench.core_run(content, sub))
            results["core"] = core_figures(core_runs)
        if "store" in args.only:
            print("store ...", file=sys.stderr, flush=True)
            server, skipped = postgres_server(folder / "postgres")
            try:
                found = await core_bench.store_runs(
                    content, folder, args.runs, server.create_database if server else None
                )
            finally:
                if server is not None:
                    server.close()
            results["store"] = store_figures(found)
            if skipped:
                results["store"]["postgres_skipped"] = skipped
        for name_, runner in (("telegram", e2e.telegram_runs), ("discord", e2e.discord_runs)):
            if name_ in args.only:
                print(f"{name_} end to end ...", file=sys.stderr, flush=True)
                sub = folder / name_
                sub.mkdir()
                e2e_found[name_] = await runner(content, sub, args.runs, args.commands)
                results[name_] = e2e_figures(e2e_found[name_])
        if "pins" in args.only:
            print("pinned posts ...", file=sys.stderr, flush=True)
            results["pins"] = {}
            for name_, pins_runner in (
                ("telegram", pins_bench.telegram_run),
                ("discord", pins_bench.discord_run),
            ):
                sub = folder / f"pins-{name_}"
                sub.mkdir()
                results["pins"][name_] = await pins_runner(content, sub, args.pins)
            # Two processes refreshing together (the fleet-wide lease): the same posts/s as
            # one, and no 429.
            sub = folder / "pins-telegram-two"
            sub.mkdir()
            results["pins"]["telegram_x2"] = await pins_bench.telegram_two_processes_run(
                content, sub, args.pins
            )
        if "startup" in args.only:
            print("start-up ...", file=sys.stderr, flush=True)
            sub = folder / "startup"
            sub.mkdir()
            results["startup"] = startup_figures(await processes.startup_runs(sub, args.runs))
        if "memory" in args.only:
            print("memory ...", file=sys.stderr, flush=True)
            sub = folder / "memory"
            sub.mkdir()
            results["memory"] = await processes.memory_run(
                sub, args.memory_commands, args.communities
            )
        if "fleet" in args.only:
            print("several processes, one Discord bot ...", file=sys.stderr, flush=True)
            server, skipped = postgres_server(folder / "fleet-postgres")
            try:
                results["fleet_discord"] = await fleet_discord.fleet_run(
                    folder, args.fleet_interactions, server.create_database if server else None
                )
                print("Telegram, several processes ...", file=sys.stderr, flush=True)
                results["fleet_telegram"] = await fleet_telegram.fleet_runs(
                    folder / "fleet",
                    server.create_database if server else None,
                    args.fleet_commands,
                )
            finally:
                if server is not None:
                    server.close()
            if skipped:
                results["fleet_telegram"]["skipped"] = skipped
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["targets"] = targets(results)
    results["chart"] = chart(core_runs, e2e_found, args.chart, args.plot_path)
    return results


def main(argv: list[str] | None = None) -> int:
    parts = ("core", "store", "telegram", "discord", "pins", "startup", "memory", "fleet")
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median shown)")
    parser.add_argument("--commands", type=int, default=2000, help="commands per e2e run")
    parser.add_argument("--memory-commands", type=int, default=10_000)
    parser.add_argument("--communities", type=int, default=10_000)
    parser.add_argument(
        "--pins", type=int, default=1000, help="stale pinned posts per platform (one a community)"
    )
    parser.add_argument(
        "--fleet-interactions",
        type=int,
        default=2000,
        help="interactions in the burst that one, then two Discord processes answer",
    )
    parser.add_argument(
        "--fleet-commands",
        type=int,
        default=2000,
        help="commands in the burst through one, then two, Telegram processes",
    )
    parser.add_argument("--only", nargs="+", choices=parts, default=list(parts))
    parser.add_argument("--quick", action="store_true", help="smoke test; not comparable")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--chart", type=Path, default=CHART)
    parser.add_argument(
        "--plot-path", type=Path, help="a folder with matplotlib in it, for the chart only"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.runs, args.commands = 1, 100
        args.memory_commands = args.communities = 500
        args.pins = 100
        args.fleet_interactions = 200
        args.fleet_commands = 100
    results = asyncio.run(run(args))
    print(table(results))
    print(results["chart"])
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.output} ({results['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
