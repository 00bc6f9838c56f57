"""``safety-bot preview``: its arguments and what it does (the site's code loads only when
the command runs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from shared.config import Config
from shared.problems import ProblemsError


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add ``preview`` to the ``safety-bot`` subcommands."""
    preview = commands.add_parser(
        "preview",
        parents=[common],
        help="write a static site showing every reply on Discord, Telegram and the console",
        description=(
            "Write a static site (open DIR/index.html in a browser; no server, no network)"
            " with every reply the bot can give, as each platform shows it, beside its"
            " length against the platform's limits and the facts of every resource it names."
        ),
    )
    preview.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="folder to write the site to"
    )
    preview.add_argument(
        "--against",
        type=Path,
        metavar="PATH",
        help="another content folder (or a checkout that holds one in messages/):"
        " also show which replies differ from it, line by line",
    )


def main(args: argparse.Namespace, config: Config) -> int:
    """Build the site; the exit code says whether it was written."""
    from bots.preview.site import OutputError, collect, write
    from shared.content import default_content_path, load_content

    content = load_content(config.content_path)
    before = None
    if args.against is not None:
        folder = _content_folder(args.against)
        try:
            before = load_content(folder)
        except ProblemsError as error:
            print(f"cannot compare: the content in {folder} has errors:", file=sys.stderr)
            print(error, file=sys.stderr)
            return 2
    source = config.content_path or default_content_path()
    site = collect(
        content, config, source=str(source), before=before, against=str(args.against or "")
    )
    try:
        pages = write(site, args.out)
    except (OutputError, OSError) as error:
        print(f"cannot write the site: {error}", file=sys.stderr)
        return 2
    print(f"Wrote {pages} pages ({site.replies} replies) to {args.out}")
    if site.changes is not None:
        print(f"{len(site.changes)} replies differ from {args.against}")
    print(f"Open {(args.out / 'index.html').resolve()} in a browser.")
    return 0


def _content_folder(path: Path) -> Path:
    """``path``, or its ``messages/`` when it is a checkout of the project."""
    inner = path / "messages"
    return inner if (inner / "topics.toml").is_file() else path
