"""The ``safety-bot`` command: check content, ask one question, run the console or the bots."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import logging
import os
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bots import store_cli
from bots.app import ExitCode, Stop, UsageError, build_core, describe, running_core
from bots.logs import redact_output, setup_logging
from bots.preview import command as preview
from shared.commands import BY_NAME, Audience, Option
from shared.config import TOKEN_VARIABLES, Config, load_config
from shared.content import load_content
from shared.core import Core
from shared.models import Community, Request
from shared.problems import ProblemsError
from shared.store import StoreUnavailable, UnavailableStore

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
ASK_COMMUNITY = Community("console", "ask")
"""Where ``ask`` runs a moderator command: a community with default settings, kept nowhere."""


EXIT_CODES = "exit codes:\n" + "\n".join(f"  {code:<4} {code.meaning}" for code in ExitCode)


def _common_options(parser: argparse.ArgumentParser, *, after: bool) -> None:
    """``--config`` and ``--debug``, taken before the command and after it.

    After the command they are stored apart (and only when given) so that neither place can
    silently undo the other; :func:`_merge_common` joins them.
    """
    suffix, default = ("_after", argparse.SUPPRESS) if after else ("", None)
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        dest=f"config{suffix}",
        default=default,
        help="config file (default: ./config.toml when present, else built-in defaults)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        dest=f"debug{suffix}",
        default=default or False,
        help="log everything, and the traceback of an unexpected error (tokens redacted)",
    )


def _merge_common(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """One ``--config`` and ``--debug`` from both places; two different configs are refused."""
    after = getattr(args, "config_after", None)
    if after is not None:
        if args.config is not None and args.config != after:
            parser.error(f"--config given twice ({args.config} and {after}): give it once")
        args.config = after
    args.debug = args.debug or getattr(args, "debug_after", False)


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, after=True)
    parser = argparse.ArgumentParser(
        prog="safety-bot",
        description="Calm, sourced next steps for people threatened with sextortion.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common_options(parser, after=False)
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
    ask.add_argument(
        "command",
        help='what a person types, e.g. "/help-threatened", "/report UK 15" or free text',
    )
    ask.add_argument("--region", help='a region code or name, e.g. CA, US, GB, "New Zealand", INTL')
    ask.add_argument("--locale", help="the person's language, e.g. en, fr, fr-CA")
    ask.add_argument("--age", help="the person's age (e.g. 15) or age group (under18, adult)")
    ask.add_argument("--topic", help="the advice to pin or unpin, for /pin-advice, /unpin-advice")
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
    store_cli.add_commands(commands, common)
    preview.add_parser(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``safety-bot`` command; returns the exit code.

    Whatever stops a command ends with one line a person can act on and an exit code from
    :class:`ExitCode`; no token reaches stdout, stderr or a log, tracebacks included.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    _merge_common(parser, args)
    # From here on, even an error loading the config cannot print a token from the environment.
    redact_output(os.environ.get(variable, "") for variable in TOKEN_VARIABLES.values())
    try:
        config = load_config(args.config)
    except ProblemsError as error:
        if args.action == "check":
            return _report(error.problems_text(), failed=True)
        print(f"safety-bot {args.action}: the config has errors:\n{error}", file=sys.stderr)
        return ExitCode.CANNOT_START
    secrets = (config.telegram.token, config.discord.token, config.database_password)
    redact_output(secrets)
    setup_logging(config.log_level, secrets, debug=args.debug)
    action: Callable[[argparse.Namespace, Config], int] = {
        "check": _check,
        "ask": _ask,
        "console": _console,
        "run": _run,
        "invite-url": _discord("print_invite_url"),
        "sync-commands": _discord("sync_commands"),
        "refresh-pins": _refresh_pins,
        "pins": _pins,
        "store": store_cli.run,
        "preview": preview.main,
    }[args.action]
    try:
        return action(args, config)
    except ProblemsError as error:
        errors = [str(p) for p in error.problems if not p.warning]
        warnings = len(error.problems) - len(errors)
        print(f"safety-bot {args.action}: the content or config has errors:", file=sys.stderr)
        print("\n".join(errors), file=sys.stderr)
        also = f"{warnings} warnings too; " if warnings else ""
        print(f"({also}run `{_command(args, 'check')}` for the full list)", file=sys.stderr)
        return ExitCode.CANNOT_START
    except Stop as error:
        _stopped(args.action, error)
        return error.exit_code
    except StoreUnavailable as error:
        # Only a command that needs the database gets here (the bots answer without it).
        _stopped(args.action, UsageError(f"{error}: check [storage] database in {config.source}"))
        return ExitCode.CANNOT_START
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as error:
        log.debug("safety-bot %s stopped on this error", args.action, exc_info=True)
        print(f"safety-bot {args.action}: {_unexpected(error)}", file=sys.stderr)
        return ExitCode.UNEXPECTED


def _stopped(action: str, error: Stop) -> None:
    """The one line for ``error``; with ``--debug``, what caused it before."""
    log.debug("safety-bot %s stopped on this error", action, exc_info=True)
    print(f"safety-bot {action}: {error}", file=sys.stderr)


def _unexpected(error: Exception) -> str:
    return f"stopped on an unexpected error ({describe(error)}); --debug shows where"


def _command(args: argparse.Namespace, action: str) -> str:
    """``safety-bot ACTION`` with the ``--config`` of this run, to suggest in a hint."""
    config = f" --config {shlex.quote(str(args.config))}" if args.config else ""
    return f"safety-bot{config} {action}"


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
        raise UsageError(f"unknown platform {platform!r}; choose one of: {', '.join(RENDERERS)}")
    return importlib.import_module(module)


def _ask(args: argparse.Namespace, config: Config) -> int:
    renderer = _renderer(args.platform)
    core = build_core(config)
    typed = core.read(args.command)
    options = dict(typed.options) if typed else {}
    # The flags and the words typed in the command are two ways to give the same options.
    for option, flag in (
        (Option.REGION, args.region),
        (Option.AGE, args.age),
        (Option.TOPIC, args.topic),
    ):
        if not flag:
            continue
        given = options.setdefault(option.value, flag)
        if not core.grammar.same(option, given, flag):
            raise UsageError(
                f"--{option.value} {flag!r} and {given!r} in the command disagree; give one of them"
            )
    name = (typed.name or typed.command) if typed else ""
    # A moderator command is asked as a moderator of a community that exists only for this
    # question, so /pin-advice shows the post it would pin.
    moderator = name in BY_NAME and BY_NAME[name].audience is Audience.MODERATORS
    request = Request(
        command=name,
        options=options,
        user_locale=args.locale,
        community=ASK_COMMUNITY if moderator else None,
        is_moderator=moderator,
        is_private_chat=not moderator,
    )
    reply = asyncio.run(core.handle(request))
    if args.json:
        print(json.dumps(renderer.payload(reply), ensure_ascii=False, indent=2))
    else:
        print(renderer.text(reply))
    return 0


def _console(args: argparse.Namespace, config: Config) -> int:
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

    running = set(platforms)
    stopped: list[int] = []

    async def serve_one(name: str, core: Core) -> None:
        # A platform that stops (a refused token, a bug) stops alone: people on the others
        # still get answers.
        try:
            await importlib.import_module(SERVERS[name]).serve(core)
            return
        except Stop as error:
            log.debug("%s stopped on this error", name, exc_info=True)
            reason, code = str(error), error.exit_code
        except Exception as error:
            log.debug("%s stopped on this error", name, exc_info=True)
            reason, code = f"{name.capitalize()} {_unexpected(error)}", ExitCode.UNEXPECTED
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
            monitoring(core, config.metrics.listen, platforms),
        ):
            # return_exceptions: on a signal, wait until every platform has finished what was
            # in flight (a plain gather ends when the first one has, and the database would
            # close under the others).
            serving = (serve_one(name, core) for name in platforms)
            await _until_signal(asyncio.gather(*serving, return_exceptions=True))

    asyncio.run(serve())
    return stopped[0] if stopped else ExitCode.OK


def _platforms(config: Config) -> list[str]:
    """Platforms with a token set."""
    tokens = {"telegram": config.telegram.token, "discord": config.discord.token}
    return [name for name, token in tokens.items() if token and name in SERVERS]


def _refresh_pins(args: argparse.Namespace, config: Config) -> int:
    platforms = _platforms(config)
    if not platforms:
        variables = " or ".join(TOKEN_VARIABLES[name] for name in SERVERS)
        raise UsageError(f"set {variables} to refresh the posts on that platform")
    codes: list[int] = []

    async def refresh() -> None:
        async with running_core(config) as core:
            if isinstance(core.store, UnavailableStore):
                # The bots answer without a database; this command has nothing to do without it.
                raise StoreUnavailable(core.store.reason)
            for name in platforms:
                try:
                    counts = await importlib.import_module(SERVERS[name]).refresh_pins(core)
                except Stop as error:
                    # One platform refused or unreachable: the others are still refreshed.
                    _stopped(args.action, error)
                    codes.append(error.exit_code)
                    continue
                if counts.failed:
                    # Left for the next run: a non-zero exit tells a scheduler to look.
                    codes.append(ExitCode.FAILED)
                print(
                    f"{name}: {counts.checked} checked, {counts.edited} edited,"
                    f" {counts.gone} gone, {counts.failed} failed"
                )

    asyncio.run(_until_signal(refresh()))
    # A platform that refused the token or could not be reached matters more than a post.
    return min(codes, key=lambda code: code == ExitCode.FAILED, default=ExitCode.OK)


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
