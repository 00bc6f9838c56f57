"""The ``safety-bot`` commands that run the bots: ``run`` (every platform with a token, else
the console), ``console``, ``refresh-pins`` and ``pins``; and how each stops, on a signal or
an error, with one line a person can act on."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from bots.adapter import PlatformAdapter
from bots.app import ExitCode, Stop, UsageError, describe, running_core
from bots.registry import PLATFORMS
from shared.config import Config
from shared.core import Core
from shared.store import StoreUnavailable, UnavailableStore

log = logging.getLogger("safety-bot")


def stopped(action: str, error: Stop) -> None:
    """The one line for ``error``; with ``--debug``, what caused it before."""
    log.debug("safety-bot %s stopped on this error", action, exc_info=True)
    print(f"safety-bot {action}: {error}", file=sys.stderr)


def unexpected(error: Exception) -> str:
    """The one line for an error nobody expected."""
    return f"stopped on an unexpected error ({describe(error)}); --debug shows where"


def console(args: argparse.Namespace, config: Config) -> int:
    """``safety-bot console``: the console, until Ctrl-D, SIGTERM or SIGINT."""
    from bots.console.session import run

    # The console's community is a sandbox: a newcomer's /setup must not change what the
    # next session answers, unless the operator named a database on purpose.
    saved_in = config.store_name if config.database_configured else None

    async def session() -> None:
        async with running_core(config, in_memory=saved_in is None) as core:
            stop = asyncio.Event()
            with _on_signal(stop.set):
                await run(core, stop=stop, saved_in=saved_in)

    asyncio.run(session())
    return 0


def run(args: argparse.Namespace, config: Config) -> int:
    """``safety-bot run``: every platform with a token, else the console; with ``--only``,
    just those platforms, each of which must have its token."""
    platforms = _platforms(config, args.only)
    if not platforms:
        print(
            "No platform token is set, so starting the console. To run the bots, set"
            f" {_variables()} in the environment (or a token in config.toml; see"
            " config.example.toml).",
            file=sys.stderr,
        )
        return console(args, config)

    running = {platform.name for platform in platforms}
    stopped: list[int] = []

    async def serve_one(platform: PlatformAdapter, core: Core) -> None:
        # A platform that stops (a refused token, a bug) stops alone: people on the others
        # still get answers.
        name = platform.name
        try:
            await platform.serve(core)
            return
        except Stop as error:
            log.debug("%s stopped on this error", name, exc_info=True)
            reason, code = str(error), error.exit_code
        except Exception as error:
            log.debug("%s stopped on this error", name, exc_info=True)
            reason, code = f"{name.capitalize()} {unexpected(error)}", ExitCode.UNEXPECTED
        running.discard(name)
        stopped.append(code)
        others = sorted(other.capitalize() for other in running)
        if others:
            verb = "keeps" if len(others) == 1 else "keep"
            log.error("%s; %s %s running", reason, " and ".join(others), verb)
        else:
            log.error("%s; nothing else is running, so safety-bot stops", reason)

    async def serve() -> None:
        from bots.monitoring import monitoring  # aiohttp's server: only `run` needs it

        async with (
            running_core(config) as core,
            monitoring(core, config.metrics.listen, [p.name for p in platforms]),
        ):
            # return_exceptions: on a signal, wait until every platform has finished what was
            # in flight (a plain gather ends when the first one has, and the database would
            # close under the others).
            serving = (serve_one(platform, core) for platform in platforms)
            await _until_signal(asyncio.gather(*serving, return_exceptions=True))

    asyncio.run(serve())
    return stopped[0] if stopped else ExitCode.OK


def _platforms(config: Config, only: list[str] | None = None) -> list[PlatformAdapter]:
    """Platforms with a token set, in the registry's order; with ``only``, those named, and
    a UsageError naming the variable of one without its token (a service that would
    otherwise open a console with no one to type into it, and end as if all went well)."""
    tokens = config.tokens
    if only is None:
        return [platform for platform in PLATFORMS if tokens.get(platform.name)]
    chosen = [platform for platform in PLATFORMS if platform.name in only]
    for platform in chosen:
        if not tokens.get(platform.name):
            raise UsageError(
                f"--only {platform.name}: set {platform.token_variable} in the environment"
                f" (or [{platform.name}] token in the config)"
            )
    return chosen


def _variables() -> str:
    """The platforms' token variables, for a message saying to set one."""
    return " or ".join(p.token_variable for p in sorted(PLATFORMS, key=lambda p: p.name))


def refresh_pins(args: argparse.Namespace, config: Config) -> int:
    """``safety-bot refresh-pins``: every stale pinned post of every platform with a token."""
    platforms = _platforms(config)
    if not platforms:
        raise UsageError(f"set {_variables()} to refresh the posts on that platform")
    codes: list[int] = []

    async def refresh() -> None:
        async with running_core(config) as core:
            if isinstance(core.store, UnavailableStore):
                # The bots answer without a database; this command has nothing to do without it.
                raise StoreUnavailable(core.store.reason)
            for platform in platforms:
                try:
                    counts = await platform.refresh_pins(core)
                except Stop as error:
                    # One platform refused or unreachable: the others are still refreshed.
                    stopped(args.action, error)
                    codes.append(error.exit_code)
                    continue
                if counts.failed:
                    # Left for the next run: a non-zero exit tells a scheduler to look.
                    codes.append(ExitCode.FAILED)
                print(
                    f"{platform.name}: {counts.checked} checked, {counts.edited} edited,"
                    f" {counts.gone} gone, {counts.failed} failed"
                )

    asyncio.run(_until_signal(refresh()))
    # A platform that refused the token or could not be reached matters more than a post.
    return min(codes, key=lambda code: code == ExitCode.FAILED, default=ExitCode.OK)


def pins(args: argparse.Namespace, config: Config) -> int:
    """``safety-bot pins``: the pinned-post figures of each platform."""

    async def summary() -> dict[str, dict[str, int]]:
        async with running_core(config) as core:
            return await core.pins.summary(sorted(p.name for p in PLATFORMS))

    figures = asyncio.run(summary())
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for name, counts in figures.items():
            print(
                f"{name}: {counts['posts']} pinned posts, {counts['stale']} stale"
                f" ({counts['cannot_edit']} the bot can no longer edit)"
            )
    return 0


async def _until_signal(work: Awaitable[object]) -> None:
    """Run ``work`` until it ends or SIGTERM/SIGINT arrives; then cancel it so adapters can
    finish what is in flight and close cleanly (the database closes after)."""
    task = asyncio.ensure_future(work)
    with _on_signal(task.cancel):
        try:
            await task
        except asyncio.CancelledError:
            log.info("stopped")


@contextmanager
def _on_signal(stop: Callable[[], object]) -> Iterator[None]:
    """Call ``stop`` on SIGTERM or SIGINT (once is enough) while the block runs."""
    loop = asyncio.get_running_loop()

    def stopping(signum: signal.Signals) -> None:
        log.info("stopping on signal %s: finishing what is in flight", signum.name)
        stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping, signum)
    try:
        yield
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
