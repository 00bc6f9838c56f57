"""The ``safety-bot`` command: check content, ask one question, run the console or the bots."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bots import registry, serving, store_cli
from bots.adapter import Renderer
from bots.app import ExitCode, Stop, UsageError, build_core
from bots.logs import redact_output, setup_logging
from bots.preview import command as preview
from shared.commands import BY_NAME, Audience, Option
from shared.config import Config
from shared.content import load_content
from shared.models import Community, Request
from shared.problems import ProblemsError
from shared.store import StoreUnavailable

log = logging.getLogger("safety-bot")

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
    run = commands.add_parser(
        "run",
        parents=[common],
        help="start every platform with a token set; with none, the console",
    )
    run.add_argument(
        "--only",
        action="append",
        choices=[p.name for p in registry.PLATFORMS],
        metavar="PLATFORM",
        help="run only this platform (repeatable), and fail instead of opening the console"
        " when its token is unset: for a service unit",
    )
    for platform in registry.PLATFORMS:
        for command in platform.commands:
            command.arguments(
                commands.add_parser(command.name, parents=[common], help=command.help)
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
    redact_output(
        os.environ.get(variable, "")
        for p in registry.PLATFORMS
        for variable in (p.token_variable, *p.section.variables.values())
    )
    try:
        config = registry.load_config(args.config)
    except ProblemsError as error:
        if args.action == "check":
            return _report(error.problems_text(), failed=True)
        print(f"safety-bot {args.action}: the config has errors:\n{error}", file=sys.stderr)
        return ExitCode.CANNOT_START
    secrets = config.secrets
    redact_output(secrets)
    setup_logging(config.log_level, secrets, debug=args.debug)
    action: Callable[[argparse.Namespace, Config], int] = {
        "check": _check,
        "ask": _ask,
        "console": serving.console,
        "run": serving.run,
        **{c.name: c.run for p in registry.PLATFORMS for c in p.commands},
        "refresh-pins": serving.refresh_pins,
        "pins": serving.pins,
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
        serving.stopped(args.action, error)
        return error.exit_code
    except StoreUnavailable as error:
        # Only a command that needs the database gets here (the bots answer without it).
        serving.stopped(
            args.action, UsageError(f"{error}: check [storage] database in {config.source}")
        )
        return ExitCode.CANNOT_START
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader stopped reading (`safety-bot preview | head`): its choice, not a fault.
        # Later writes, the interpreter's last flush included, go nowhere instead of failing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK
    except Exception as error:
        log.debug("safety-bot %s stopped on this error", args.action, exc_info=True)
        print(f"safety-bot {args.action}: {serving.unexpected(error)}", file=sys.stderr)
        return ExitCode.UNEXPECTED


def _command(args: argparse.Namespace, action: str) -> str:
    """``safety-bot ACTION`` with the ``--config`` of this run, to suggest in a hint."""
    config = f" --config {shlex.quote(str(args.config))}" if args.config else ""
    return f"safety-bot{config} {action}"


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


def _renderer(platform: str) -> Renderer:
    found = registry.adapter(platform)
    if found is None:
        names = ", ".join(sorted(a.name for a in registry.ADAPTERS))
        raise UsageError(f"unknown platform {platform!r}; choose one of: {names}")
    return found.renderer()


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


if __name__ == "__main__":
    sys.exit(main())
