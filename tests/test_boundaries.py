"""The core imports no platform library: ruff's banned-api rule (``shared/ruff.toml``) fails
`make test` when shared/ imports discord.py or python-telegram-bot; this proves the rule is
on. (Module and class sizes: tests/test_layout_limits.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT


def ruff_check(path: str, source: str) -> subprocess.CompletedProcess[str]:
    """``ruff check`` of ``source`` as if it were the project's file ``path``."""
    ruff = Path(sys.executable).parent / "ruff"
    return subprocess.run(
        [str(ruff), "check", "--stdin-filename", path, "-"],
        cwd=PROJECT,
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("module", ["discord", "telegram.ext", "discord.app_commands"])
def test_the_core_may_not_import_a_platform_library(module: str) -> None:
    probe = f"import {module}\n\nprint({module})\n"
    checked = ruff_check("shared/probe.py", probe)
    assert checked.returncode == 1
    assert "TID251" in checked.stdout, checked.stdout + checked.stderr
    allowed = ruff_check("bots/probe.py", probe)
    assert allowed.returncode == 0, "the adapters may: " + allowed.stdout + allowed.stderr
