"""A real PostgreSQL 16 for tests, from the ``pgserver`` package (its binaries ship in the wheel;
it runs as root too, under a system user of its own).

One server starts per test session; each test gets a database of its own. Where the server
cannot start, PostgreSQL tests skip with the reason, unless ``SAFETY_BOT_REQUIRE_POSTGRES=1``
(CI sets it), where they fail. A test that stops the server (to see the bot through an outage)
starts a server of its own with :func:`start_server`.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

REQUIRE = "SAFETY_BOT_REQUIRE_POSTGRES"
_names = itertools.count(1)


def _runtime_dir() -> None:
    """pgserver's platformdirs warns (and the suite turns warnings into errors) unless
    ``XDG_RUNTIME_DIR`` names a private folder; CI has none set."""
    current = os.environ.get("XDG_RUNTIME_DIR")
    if current and Path(current).is_dir() and Path(current).stat().st_mode & 0o077 == 0:
        return
    # One folder per user, reused by every session (it holds pgserver's lock file only).
    folder = Path(tempfile.gettempdir()) / f"safety-bot-xdg-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(folder)


def unavailable(reason: str) -> None:
    """Skip the test, or fail it where PostgreSQL is required."""
    message = f"PostgreSQL (pgserver) cannot start here: {reason}"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{message}; {REQUIRE}=1 makes this a failure")
    pytest.skip(f"{message} (set {REQUIRE}=1 to make this a failure)")


class Server:
    """One pgserver instance in a folder of its own, that a test may stop and start again."""

    def __init__(self, folder: Path) -> None:
        _runtime_dir()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver

        self.folder = folder
        self._server: Any = pgserver.get_server(folder, cleanup_mode="delete")
        self.url = str(self._server.get_uri())

    def database_url(self, name: str) -> str:
        """The URL of database ``name`` on this server."""
        return str(self._server.get_uri(name))

    def psql(self, sql: str) -> str:
        """Run ``sql`` as the superuser."""
        return str(self._server.psql(sql))

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        name = f"t_{os.getpid()}_{next(_names)}"
        self.psql(f"CREATE DATABASE {name};")
        return self.database_url(name)

    def stop(self) -> None:
        """Stop the postmaster (a fast shutdown: clients are disconnected at once), as a
        restart or an outage does, and wait until it is gone."""
        pid = self._server.get_pid()
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while _alive(pid):
            if time.monotonic() > deadline:
                raise AssertionError("the PostgreSQL server did not stop within 30 s")
            time.sleep(0.02)

    def start(self) -> None:
        """Start the postmaster again on the same folder and socket (the same URL)."""
        with self._server._lock:
            self._server.ensure_postgres_running()

    def close(self) -> None:
        """Stop the server and delete its folder."""
        self._server.cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_server() -> Server:
    """A new server in a new folder (about a second), or skip/fail as :func:`unavailable`."""
    folder = Path(tempfile.mkdtemp(prefix="safety-bot-pg-"))
    try:
        return Server(folder)
    except Exception as error:
        shutil.rmtree(folder, ignore_errors=True)
        unavailable(f"{type(error).__name__}: {error}")
        raise  # unreachable: unavailable() skips or fails


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A stopped child of ours stays as a zombie until reaped; pgserver's is not ours.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"
