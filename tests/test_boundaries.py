"""The core imports no platform library: ruff's banned-api rule (``shared/ruff.toml``) fails
`make test` when shared/ imports discord.py or python-telegram-bot; this proves the rule is
on. (Module and class sizes: tests/test_layout_limits.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT


@pytest.mark.parametrize("module", ["discord", "telegram.ext", "discord.app_commands"])
def test_the_core_may_not_import_a_platform_library(module: str) -> None:
    ruff = Path(sys.executable).parent / "ruff"
    probe = f"import {module}\n\nprint({module})\n"
    checked = subprocess.run(
        [str(ruff), "check", "--stdin-filename", "shared/probe.py", "-"],
        cwd=PROJECT,
        input=probe,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 1
    assert "TID251" in checked.stdout, checked.stdout + checked.stderr
    # The adapters may.
    allowed = subprocess.run(
        [str(ruff), "check", "--stdin-filename", "bots/probe.py", "-"],
        cwd=PROJECT,
        input=probe,
        capture_output=True,
        text=True,
        check=False,
    )
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
