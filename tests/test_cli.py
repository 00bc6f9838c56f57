"""The installed ``safety-bot`` command, run as a person would: in a subprocess."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shared.content import default_content_path

BIN = Path(sys.executable).parent / "safety-bot"


def run(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_TOKEN", "DISCORD_TOKEN")}
    return subprocess.run(
        [str(BIN), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**clean, **(env or {})},
        check=False,
    )


def test_every_command_has_help(tmp_path: Path) -> None:
    for command in ([], ["check"], ["ask"], ["console"], ["run"]):
        result = run(*command, "--help", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "usage: safety-bot" in result.stdout


def test_check_passes_on_shipped_content_from_any_directory(tmp_path: Path) -> None:
    result = run("check", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 7 topics" in result.stdout


def test_check_fails_with_precise_messages_on_broken_content(tmp_path: Path) -> None:
    broken = tmp_path / "messages"
    shutil.copytree(default_content_path(), broken)
    path = broken / "regions" / "CA.toml"
    path.write_text(path.read_text().replace('url = "https://', 'url = "http://', 1))
    (tmp_path / "config.toml").write_text('[content]\npath = "messages"\n')
    result = run("check", cwd=tmp_path)
    assert result.returncode == 1
    assert "messages/regions/CA.toml:" in result.stdout
    assert "url: must be an https:// URL" in result.stdout


def test_bot_refuses_to_start_on_invalid_content(tmp_path: Path) -> None:
    broken = tmp_path / "messages"
    shutil.copytree(default_content_path(), broken)
    (broken / "locales" / "en.toml").write_text("[locale\n")
    (tmp_path / "config.toml").write_text('[content]\npath = "messages"\n')
    result = run("console", cwd=tmp_path, stdin="/help\n")
    assert result.returncode == 2
    assert "locales/en.toml:1: (syntax)" in result.stderr


def test_strict_check_passes_on_shipped_content_and_fails_on_unverified(tmp_path: Path) -> None:
    shipped = run("check", "--strict", cwd=tmp_path)
    assert shipped.returncode == 0, shipped.stdout
    assert "0 warnings" in shipped.stdout
    copy = tmp_path / "messages"
    shutil.copytree(default_content_path(), copy)
    path = copy / "regions" / "NZ.toml"
    path.write_text(path.read_text().replace("verified = 2026-11-24", 'verified = ""', 1))
    (tmp_path / "config.toml").write_text('[content]\npath = "messages"\n')
    result = run("check", "--strict", cwd=tmp_path)
    assert result.returncode == 1
    assert "regions/NZ.toml:" in result.stdout
    assert "not verified yet" in result.stdout


def test_bad_config_names_file_and_key(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[bot]\ndefault_region = "Mars"\n')
    result = run("ask", "/about", cwd=tmp_path)
    assert result.returncode == 2
    assert "config.toml:2: bot.default_region" in result.stderr
    checked = run("check", cwd=tmp_path)
    assert checked.returncode == 1
    assert "config.toml:2: bot.default_region" in checked.stdout


def test_ask_prints_advice_and_json(tmp_path: Path) -> None:
    text = run("ask", "/help-threatened", "--region", "GB", "--locale", "fr", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert "999" in text.stdout
    payload = run("ask", "/report", "--age", "adult", "--json", cwd=tmp_path)
    data = json.loads(payload.stdout)
    assert data["topic"] == "report"
    assert data["region"] == "CA"
    assert data["age"] == "adult"


def test_ask_unknown_platform_fails(tmp_path: Path) -> None:
    result = run("ask", "/about", "--platform", "myspace", cwd=tmp_path)
    assert result.returncode != 0
    assert "unknown platform" in result.stderr


def test_console_with_piped_stdin_answers_with_canadian_resources(tmp_path: Path) -> None:
    result = run("console", cwd=tmp_path, stdin="/help-threatened\n/nonsense\n")
    assert result.returncode == 0, result.stderr
    assert "1-866-658-9022" in result.stdout  # Cybertip.ca, Canada's tipline
    assert "911" in result.stdout
    assert "/help" in result.stdout.split("1-866-658-9022", 1)[1]


def test_console_setup_is_kept_in_the_database(tmp_path: Path) -> None:
    first = run("console", cwd=tmp_path, stdin="/setup region:GB\n")
    assert first.returncode == 0, first.stderr
    second = run("console", cwd=tmp_path, stdin="/report\n")
    assert "999" in second.stdout
    assert (tmp_path / "safety-bot.sqlite3").exists()


@pytest.mark.parametrize("variable", ["TELEGRAM_TOKEN", "DISCORD_TOKEN"])
def test_run_without_tokens_names_the_variables_and_starts_the_console(
    tmp_path: Path, variable: str
) -> None:
    result = run("run", cwd=tmp_path, stdin="/about\n")
    assert result.returncode == 0, result.stderr
    assert variable in result.stderr
    assert result.stdout.strip()
