"""Without ``../shared/specs`` (a clone outside this workspace) the spec-conformance tests
skip, and the test run says so and why in its summary, without ``-rs``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT

LEFT_OUT = shutil.ignore_patterns(".venv", ".git", "*cache*", "__pycache__", "*.sqlite3*")


def test_the_test_run_says_why_spec_tests_skipped(tmp_path: Path) -> None:
    clone = tmp_path / "safety-bot"  # with no shared/specs beside it
    shutil.copytree(PROJECT, clone, ignore=LEFT_OUT)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/telegram/test_spec.py",
        ],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    summary = [line for line in result.stdout.splitlines() if "spec-conformance" in line]
    assert len(summary) == 1, result.stdout
    assert re.match(r"[1-9]\d* spec-conformance tests skipped: ", summary[0])
    assert f"{tmp_path / 'shared' / 'specs'} is absent (optional;" in summary[0]
