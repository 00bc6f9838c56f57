"""``safety-bot store ...``: operator commands on the stored data (``store copy SRC DST``)."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bots.app import Stop, describe
from shared.config import Config, describe_store

_HELP = """Copy every community's settings, pinned posts and operator values from SRC to DST,
each an SQLite file or a postgresql:// URL (e.g. safety-bot.sqlite3
postgresql://bot@db/safety_bot); without DST, to the store the config names. Rows are merged
by key in one transaction: missing ones are added, different ones replaced, nothing else
touched, so running it again changes nothing. Stop the bot first, then start it with
[storage] set to DST."""


def add_commands(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``store copy`` to the ``safety-bot`` parser's subcommands."""
    store = commands.add_parser("store", parents=[common], help="copy the stored data")
    actions = store.add_subparsers(dest="store_action", required=True, metavar="ACTION")
    copy = actions.add_parser(
        "copy", parents=[common], help="copy the stored data to another store", description=_HELP
    )
    copy.add_argument("source", metavar="SRC", help="SQLite file or postgresql:// URL to read")
    copy.add_argument(
        "destination",
        metavar="DST",
        nargs="?",
        help="SQLite file or postgresql:// URL (default: the store of the config, [storage])",
    )


def run(args: argparse.Namespace, config: Config) -> int:
    """Run ``store copy``; prints counts per table (never an id); exit 1 when it failed."""
    from shared.store.copy import CopyError, copy_store  # asyncpg only when used

    destination = args.destination or config.database_url or str(config.database)
    source, target = describe_store(args.source), describe_store(destination)
    try:
        counts = asyncio.run(copy_store(args.source, destination))
    except CopyError as error:
        raise Stop(f"cannot copy: {error}") from error
    except Exception as error:
        # The database's own error (unreachable, refused login, full disk), on one line.
        raise Stop(f"cannot copy {source} to {target}: {describe(error)}") from error
    print(f"copied {source} to {target}")
    for table in counts:
        print(f"  {table}")
    return 0
