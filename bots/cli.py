"""The ``safety-bot`` command: check content, ask one question, run the console or the bots."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bots.app import TokenRejected, build_core, running_core
from bots.logs import setup_logging
from bots.preview import command as preview
from shared.config import TOKEN_VARIABLES, Config, load_config
from shared.content import load_content
from shared.core import Core
from shared.models import Request
from shared.problems import ProblemsError

log = logging.getLogger("safety-bot")

# platform -> module with `text(reply) -> str` and `payload(reply) -> dict` (for `ask`).
RENDERERS = {
    "console": "bots.console.render",
    "discord": "bots.discord.render",
    "telegram": "bots.telegram.render",
}
# platform -> module with `async serve(core) -> None` (for `run`) and
# `async refresh_pins(core) -> Counts` (for `refresh-pins`).
SERVERS: dict[str, str] = {"discord": "bots.discord.app", "telegram": "bots.telegram.app"}


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="config file (default: ./config.toml when present, else built-in defaults)",
    )
    common.add_argument("--debug", action="store_true", help="log everything (tokens redacted)")
    parser = argparse.ArgumentParser(
        prog="safety-bot",
        description="Calm, sourced next steps for people threatened with sextortion.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="action", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "check", parents=[common], help="validate content and config; exit 1 on any error"
    )
    check.add_argument(
        "--strict", action="store_true", help="also fail on unverified or stale resources"
    )

    ask = commands.add_parser(
        "ask", parents=[common], help="run one command and print what would be sent"
    )
    ask.add_argument("command", help='a command as typed in a chat, e.g. "/help-threatened"')
    ask.add_argument("--region", help="region code, e.g. CA, US, GB, AU, NZ, IE, INTL")
    ask.add_argument("--locale", help="the person's language, e.g. en, fr, fr-CA")
    ask.add_argument("--age", choices=["under18", "adult"], help="the person's age group")
    ask.add_argument("--topic", help="topic, for /pin-advice")
    ask.add_argument("--platform", default="console", help="console, telegram or discord")
    ask.add_argument("--json", action="store_true", help="print the exact payload as JSON")

    commands.add_parser(
        "console", parents=[common], help="chat with the bot in this terminal (Ctrl-D quits)"
    )
    commands.add_parser(
        "run",
        parents=[common],
        help="start every platform with a token set; with none, the console",
    )
    invite = commands.add_parser(
        "invite-url", parents=[common], help="print the URL that adds the bot to a Discord server"
    )
    invite.add_argument(
        "--client-id",
        type=int,
        metavar="ID",
        help="the Discord application id (default: read from the bot token)",
    )
    commands.add_parser(
        "sync-commands", parents=[common], help="send the slash commands to Discord now"
    )
    commands.add_parser(
        "refresh-pins",
        parents=[common],
        help="update every pinned advice post that is out of date (the bots do it on start)",
    )
    pins = commands.add_parser(
        "pins", parents=[common], help="count pinned advice posts, and stale ones, per platform"
    )
    pins.add_argument("--json", action="store_true", help="print the figures as JSON")
    preview.add_parser(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``safety-bot`` command; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ProblemsError as error:
        if args.action == "check":
            return _report(error.problems_text(), failed=True)
        print(error, file=sys.stderr)
        return 2
    setup_logging(config.log_level, (config.telegram.token, config.discord.token), debug=args.debug)
    action: Callable[[argparse.Namespace, Config], int] = {
        "check": _check,
        "ask": _ask,
        "console": _console,
        "run": _run,
        "invite-url": _discord("print_invite_url"),
        "sync-commands": _discord("sync_commands"),
        "refresh-pins": _refresh_pins,
        "pins": _pins,
        "preview": preview.main,
    }[args.action]
    try:
        return action(args, config)
    except ProblemsError as error:
        print(f"cannot start: the content or config has errors:\n{error}", file=sys.stderr)
        print("run `safety-bot check` for the full list", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _discord(name: str) -> Callable[[argparse.Namespace, Config], int]:
    """A Discord operator command, imported only when used."""

    def action(args: argparse.Namespace, config: Config) -> int:
        module = importlib.import_module("bots.discord.cli")
        result: int = getattr(module, name)(args, config)
        return result

    return action


def _report(lines: list[str], *, failed: bool) -> int:
    for line in lines:
        print(line)
    return 1 if failed else 0


def _check(args: argparse.Namespace, config: Config) -> int:
    try:
        content = load_content(config.content_path)
    except ProblemsError as error:
        return _report(error.problems_text(), failed=True)
    try:
        build_core(config)
    except ProblemsError as error:
        return _report(error.problems_text(), failed=True)
    for warning in content.warnings:
        print(warning)
    failed = bool(args.strict and content.warnings)
    print(
        f"{'FAILED' if failed else 'ok'}: {len(content.topics)} topics, "
        f"{len(content.regions)} regions, {len(content.locales)} locales, "
        f"{len(content.warnings)} warnings"
    )
    return 1 if failed else 0


def _renderer(platform: str) -> Any:
    module = RENDERERS.get(platform)
    if module is None:
        raise SystemExit(f"unknown platform {platform!r}; choose one of: {', '.join(RENDERERS)}")
    return importlib.import_module(module)


def _ask(args: argparse.Namespace, config: Config) -> int:
    renderer = _renderer(args.platform)
    core = build_core(config)
    options = {
        key: value
        for key, value in (("region", args.region), ("age", args.age), ("topic", args.topic))
        if value
    }
    request = Request(command=args.command, options=options, user_locale=args.locale)
    reply = asyncio.run(core.handle(request))
    if args.json:
        print(json.dumps(renderer.payload(reply), ensure_ascii=False, indent=2))
    else:
        print(renderer.text(reply))
    return 0


def _console(args: argparse.Namespace, config: Config) -> int:
    from bots.console.session import run

    async def session() -> None:
        async with running_core(config) as core:
            stop = asyncio.Event()
            with _on_signal(stop.set):
                await run(core, stop=stop)

    asyncio.run(session())
    return 0


def _run(args: argparse.Namespace, config: Config) -> int:
    platforms = _platforms(config)
    if not platforms:
        variables = " or ".join(TOKEN_VARIABLES[name] for name in SERVERS)
        print(
            f"No platform token is set, so starting the console. To run the bots, set {variables}"
            " in the environment (or a token in config.toml; see config.example.toml).",
            file=sys.stderr,
        )
        return _console(args, config)

    rejected: list[str] = []

    async def serve_one(name: str, core: Core) -> None:
        # A refused token stops that platform only: people on the others still get answers.
        try:
            await importlib.import_module(SERVERS[name]).serve(core)
        except TokenRejected as error:
            log.error("%s", error)
            rejected.append(name)

    async def serve() -> None:
        async with running_core(config) as core:
            await _until_signal(asyncio.gather(*(serve_one(name, core) for name in platforms)))

    asyncio.run(serve())
    return 1 if rejected else 0


def _platforms(config: Config) -> list[str]:
    """Platforms with a token set."""
    tokens = {"telegram": config.telegram.token, "discord": config.discord.token}
    return [name for name, token in tokens.items() if token and name in SERVERS]


def _refresh_pins(args: argparse.Namespace, config: Config) -> int:
    platforms = _platforms(config)
    if not platforms:
        variables = " or ".join(TOKEN_VARIABLES[name] for name in SERVERS)
        print(f"Set {variables} to refresh the posts on that platform.", file=sys.stderr)
        return 2
    failed = 0

    async def refresh() -> None:
        nonlocal failed
        async with running_core(config) as core:
            for name in platforms:
                counts = await importlib.import_module(SERVERS[name]).refresh_pins(core)
                failed += counts.failed
                print(
                    f"{name}: {counts.checked} checked, {counts.edited} edited,"
                    f" {counts.gone} gone, {counts.failed} failed"
                )

    asyncio.run(_until_signal(refresh()))
    # A failure is left for the next run: a non-zero exit tells a scheduler to look.
    return 1 if failed else 0


def _pins(args: argparse.Namespace, config: Config) -> int:
    async def summary() -> dict[str, dict[str, int]]:
        async with running_core(config) as core:
            return await core.pins.summary(SERVERS)

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


if __name__ == "__main__":
    sys.exit(main())
