"""The installed ``safety-bot`` command, run as a person would: in a subprocess."""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bots.app import ExitCode, build_core
from bots.cli import _parser
from bots.console.render import text as console_text
from shared.config import Config
from shared.content import default_content_path, load_content
from shared.models import Age, Settings
from tests.command import closed_port
from tests.conftest import PROJECT

BIN = Path(sys.executable).parent / "safety-bot"


def without_tokens() -> dict[str, str]:
    """This environment without the platforms' tokens (a developer's shell may have them)."""
    return {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_TOKEN", "DISCORD_TOKEN")}


def run(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**without_tokens(), **(env or {})},
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


def test_ask_reads_the_command_line_as_its_flags(tmp_path: Path) -> None:
    def asked(*args: str) -> dict[str, Any]:
        result = run("ask", *args, "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    flags = asked("/report", "--region", "US", "--age", "adult")
    assert (flags["topic"], flags["region"], flags["age"]) == ("report", "US", "adult")
    assert asked("/report region:US age:adult") == flags
    assert asked("/report US adult") == flags
    assert asked("/report adult", "--region", "United States") == flags
    assert asked("/report UK", "--region", "GB", "--age", "15") == asked("/report UK 15")
    assert asked("/report UK 15")["age"] == "under18"
    pinned = asked("/pin-advice", "--topic", "report")
    assert (pinned["topic"], pinned["private"]) == ("report", False)
    assert asked("/pin-advice report") == pinned


def test_ask_refuses_flags_that_disagree_with_the_command(tmp_path: Path) -> None:
    result = run("ask", "/report US", "--region", "GB", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--region 'GB' and 'US' in the command disagree" in result.stderr


def test_ask_answers_free_text_with_a_pointer(tmp_path: Path) -> None:
    result = run("ask", "I am scared he will send it to my friends", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == console_text(build_core(Config()).free_text_reply("en"))


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


def test_console_setup_lives_in_memory_unless_a_database_is_configured(tmp_path: Path) -> None:
    content = load_content()
    first = run("console", cwd=tmp_path, stdin="/setup region:GB\n/report\n")
    assert first.returncode == 0, first.stderr
    assert content.ui("en", "console_settings_memory") in first.stdout
    assert "999" in first.stdout, "the session itself uses it"
    second = run("run", cwd=tmp_path, stdin="/report\n")  # `make run` with no token
    assert "911" in second.stdout
    assert "999" not in second.stdout, "a newcomer's /setup did not change the next session"
    assert list(tmp_path.iterdir()) == [], "nothing was written"


def test_console_setup_is_kept_in_a_configured_database(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[storage]\ndatabase = "console.sqlite3"\n')
    first = run("console", cwd=tmp_path, stdin="/setup region:GB\n")
    assert first.returncode == 0, first.stderr
    saved = load_content().ui(
        "en", "console_settings_saved", path=str(tmp_path / "console.sqlite3")
    )
    assert saved in first.stdout
    second = run("console", cwd=tmp_path, stdin="/report\n")
    assert "999" in second.stdout


def test_console_reads_commands_as_people_type_them(tmp_path: Path) -> None:
    core = build_core(Config())
    typed = [
        "/report US adult",
        "/pin-advice report",
        "/unpin-advice topic:report",
        "I am scared he will send it to my friends",
        "/language fr",
        "/help-threatened Aotearoa 15",
        "/language English",
        "report UK",
    ]
    result = run("console", cwd=tmp_path, stdin="\n".join(typed) + "\n")
    assert result.returncode == 0, result.stderr
    expected = [
        core.advice("report", "en", "US", Age.ADULT),
        core.community_post("report", Settings()),
        core.text("en", "unpin_none"),
        core.free_text_reply("en"),
        core.text("fr", "language_set", language="Français"),
        core.advice("help-threatened", "fr", "NZ", Age.UNDER18),
        core.text("en", "language_set", language="English"),
        core.advice("report", "en", "GB", None),
    ]
    shown = result.stdout
    for reply in expected:
        part = reply if isinstance(reply, str) else console_text(reply)
        assert part in shown, part[:80]
        shown = shown[shown.index(part) + len(part) :]  # and in the order typed
    assert "I don't know the command" not in result.stdout


@pytest.mark.parametrize("variable", ["TELEGRAM_TOKEN", "DISCORD_TOKEN"])
def test_run_without_tokens_names_the_variables_and_starts_the_console(
    tmp_path: Path, variable: str
) -> None:
    result = run("run", cwd=tmp_path, stdin="/about\n")
    assert result.returncode == 0, result.stderr
    assert variable in result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("platform", ["telegram", "discord"])
def test_run_only_a_platform_without_its_token_fails_instead_of_opening_the_console(
    tmp_path: Path, platform: str
) -> None:
    # As a service runs it: stdin is empty, and a console would end at once with 0.
    result = run("run", "--only", platform, cwd=tmp_path)
    assert result.returncode == ExitCode.CANNOT_START
    assert result.stdout == ""
    variable = f"{platform.upper()}_TOKEN"
    assert result.stderr == (
        f"safety-bot run: --only {platform}: set {variable} in the environment"
        f" (or [{platform}] token in the config)\n"
    )


# -- options before or after the command ----------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_config_is_read_before_or_after_the_command(tmp_path: Path, where: str) -> None:
    config = tmp_path / "prod.toml"
    config.write_text('[bot]\ndefault_region = "GB"\n[storage]\ndatabase = "prod.sqlite3"\n')
    for command, stdin in ((["ask", "/report"], ""), (["run"], "/report\n")):
        options = ["--config", str(config)]
        args = [*options, *command] if where == "before" else [*command, *options]
        result = run(*args, cwd=tmp_path, stdin=stdin)
        assert result.returncode == 0, result.stderr
        assert "999" in result.stdout, f"{args}: GB's police line, not the defaults' (CA)"
    missing = ["--config", "typo.toml"]
    args = [*missing, "check"] if where == "before" else ["check", *missing]
    typo = run(*args, cwd=tmp_path)
    assert typo.returncode == 1, "a config that is not there is never silently skipped"
    assert "typo.toml" in typo.stdout
    assert "No such file" in typo.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--debug", "ask", "/about"],
        ["ask", "/about", "--debug"],
        ["--debug", "--config", "c.toml", "ask", "/about"],
        ["--config", "c.toml", "--debug", "ask", "/about"],
        ["ask", "--config", "c.toml", "/about", "--debug"],
        ["--config", "c.toml", "ask", "/about", "--debug"],
    ],
)
def test_debug_is_taken_before_or_after_the_command(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "c.toml").write_text('[logging]\nlevel = "WARNING"\n')
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert " DEBUG " in result.stderr, f"{args}: --debug ignored"


def test_two_different_configs_are_refused(tmp_path: Path) -> None:
    result = run("--config", "a.toml", "check", "--config", "b.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert "--config given twice (a.toml and b.toml)" in result.stderr
    same = run("--config", "a.toml", "check", "--config", "a.toml", cwd=tmp_path)
    assert same.returncode == 1, "the same file twice is no conflict (and a.toml is missing)"


# -- config and content errors --------------------------------------------------------------


def test_config_problems_found_against_the_content_point_at_their_lines(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '# production\n\n[bot]\ndefault_locale = "de"\ndefault_region = "ZZ"\n'
    )
    checked = run("check", cwd=tmp_path)
    assert checked.returncode == 1
    assert "error: config.toml:4: bot.default_locale: no content for locale de" in checked.stdout
    assert "error: config.toml:5: bot.default_region: no content for region ZZ" in checked.stdout
    asked = run("ask", "/about", cwd=tmp_path)
    assert asked.returncode == 2
    assert "config.toml:5: bot.default_region" in asked.stderr


def broken_content(folder: Path) -> Path:
    """A copy of the shipped content with a syntax error at line 3 of regions/NZ.toml, and a
    config file using it; returns the config file."""
    shutil.copytree(default_content_path(), folder / "messages")
    nz = folder / "messages" / "regions" / "NZ.toml"
    lines = nz.read_text(encoding="utf-8").split("\n")
    nz.write_text("\n".join([*lines[:2], "this is = = broken", *lines[2:]]), encoding="utf-8")
    config = folder / "prod.toml"
    config.write_text('[content]\npath = "messages"\n')
    return config


def test_a_broken_content_file_is_one_error_at_its_line(tmp_path: Path) -> None:
    config = broken_content(tmp_path)
    checked = run("check", "--config", str(config), cwd=tmp_path)
    assert checked.returncode == 1
    assert "error: messages/regions/NZ.toml:3: (syntax):" in checked.stdout
    assert "region NZ is missing" not in checked.stdout, "it is there, only broken"
    started = run("--config", "prod.toml", "ask", "/about", cwd=tmp_path)
    assert started.returncode == 2
    assert "error: messages/regions/NZ.toml:3: (syntax):" in started.stderr
    assert "region NZ is missing" not in started.stderr
    assert not [line for line in started.stderr.splitlines() if line.startswith("warning:")], (
        "only the errors that stop it; check lists the warnings"
    )
    assert "run `safety-bot --config prod.toml check` for the full list" in started.stderr


# -- help and exit codes --------------------------------------------------------------------


def test_help_of_every_command_including_new_ones(tmp_path: Path) -> None:
    [commands] = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    for name in commands.choices:
        result = run(name, "--help", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"usage: safety-bot {name}" in result.stdout
        assert "--config PATH" in result.stdout
        assert "--debug" in result.stdout


def test_every_exit_code_is_documented_in_the_readme_and_the_help(tmp_path: Path) -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| (\d+) \| .+ \|$", readme, re.MULTILINE)
    assert sorted(map(int, table)) == sorted(ExitCode), "the README's table is ExitCode"
    shown = run("--help", cwd=tmp_path).stdout.split("exit codes:", 1)[1]
    assert sorted(map(int, re.findall(r"^ +(\d+) ", shown, re.MULTILINE))) == sorted(ExitCode)


def test_without_a_usable_database_pins_commands_say_which_setting_to_check(tmp_path: Path) -> None:
    (tmp_path / "folder.sqlite3").mkdir()  # a folder where the database file should be
    (tmp_path / "config.toml").write_text(
        '[storage]\ndatabase = "folder.sqlite3"\n'
        f'[telegram]\nbase_url = "http://127.0.0.1:{closed_port()}/bot"\n'
    )
    # refresh-pins stops before reaching any platform (the token is never used).
    for command, env in (("pins", {}), ("refresh-pins", {"TELEGRAM_TOKEN": "1:unused"})):
        result = run(command, cwd=tmp_path, env=env)
        assert result.returncode == 2, result.stderr
        assert "could not be opened: check [storage] database in config.toml" in result.stderr
        assert "unexpected error" not in result.stderr
        assert "checked" not in result.stdout


def test_a_reader_that_stops_early_is_not_an_error(tmp_path: Path) -> None:
    # `safety-bot preview | head -1`: the pipe closes before the command has written all.
    reader, writer = os.pipe()
    os.close(reader)
    result = subprocess.run(
        [str(BIN), "ask", "/resources", "--json", "--region", "US"],
        cwd=tmp_path,
        stdout=writer,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        env=without_tokens(),
        check=False,
    )
    os.close(writer)
    assert result.returncode == ExitCode.OK, result.stderr
    assert result.stderr == ""
