"""What deploy/ ships is checked here: the systemd units by ``systemd-analyze verify``, the nginx
configuration by ``nginx -t`` (with a throwaway certificate), the example configs by
``safety-bot check``. Where a tool is missing the test skips and says why, unless
``SAFETY_BOT_REQUIRE_DEPLOY_CHECKS=1`` (CI sets it, after installing them), where it fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bots.app import ExitCode

PROJECT = Path(__file__).resolve().parent.parent
DEPLOY = PROJECT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*@.service"))
CONFIGS = sorted((DEPLOY / "etc").glob("*.toml"))
NGINX = DEPLOY / "nginx" / "safety-bot.conf"
BIN = Path(sys.executable).parent / "safety-bot"
INSTALLED = "/opt/safety-bot/.venv/bin/safety-bot"
"""Where the units expect the command (an example path, replaced by this venv's to verify)."""
CERTIFICATE = "/etc/letsencrypt/live/bot.example/fullchain.pem"
KEY = "/etc/letsencrypt/live/bot.example/privkey.pem"
REQUIRE = "SAFETY_BOT_REQUIRE_DEPLOY_CHECKS"


def tool(name: str, package: str) -> str:
    """The path of ``name``; skips (or fails where required) when it is not installed."""
    found = shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin"]))
    if found is not None:
        return found
    message = f"{name} is not installed (apt-get install {package})"
    if os.environ.get(REQUIRE) == "1":
        pytest.fail(f"{message}; {REQUIRE}=1 makes this a failure")
    pytest.skip(f"{message}; set {REQUIRE}=1 to make this a failure")
    raise AssertionError("unreachable")


def settings(unit: Path) -> dict[str, str]:
    """A unit's ``key=value`` lines (each key is set once in ours)."""
    found: dict[str, str] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert key not in found, f"{unit.name}: {key} set twice"
            found[key] = value
    return found


def test_there_is_a_unit_per_process_kind_and_a_config_for_each() -> None:
    assert [unit.name for unit in UNITS] == ["safety-bot-discord@.service", "safety-bot@.service"]
    assert [config.name for config in CONFIGS] == [
        "discord-a.toml",
        "telegram-8443.toml",
        "telegram-8444.toml",
    ]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_a_unit_restarts_only_what_a_restart_can_help_and_is_hardened(unit: Path) -> None:
    found = settings(unit)
    assert found["Restart"] == "on-failure"
    prevented = {int(code) for code in found["RestartPreventExitStatus"].split()}
    assert prevented == {ExitCode.CANNOT_START, ExitCode.TOKEN_REFUSED, ExitCode.CONFLICT}
    assert found["KillSignal"] == "SIGTERM", "the bot finishes the commands in flight"
    assert found["EnvironmentFile"] == "/etc/safety-bot/env"
    assert "mode 0600" in unit.read_text(encoding="utf-8")
    for key, value in {
        "DynamicUser": "yes",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
    }.items():
        assert found[key] == value, key
    other = "DISCORD_TOKEN" if "discord" not in unit.name else "TELEGRAM_TOKEN"
    assert other in found["UnsetEnvironment"].split(), "one platform per process kind"
    platform = "discord" if "discord" in unit.name else "telegram"
    assert found["ExecStart"].startswith(
        f"{INSTALLED} run --only {platform} --config /etc/safety-bot/"
    ), "one platform per process kind, and no console when its token is missing"


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_systemd_accepts_each_unit(unit: Path, tmp_path: Path) -> None:
    analyze = tool("systemd-analyze", "systemd")
    text = unit.read_text(encoding="utf-8")
    # verify insists that the command exists: this venv's stands in for the installed one.
    (tmp_path / unit.name).write_text(text.replace(INSTALLED, str(BIN)), encoding="utf-8")
    instance = unit.name.replace("@.service", "@8443.service")
    result = subprocess.run(
        [analyze, "verify", instance],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # A misspelt key or value is only a warning: any output at all fails.
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_nginx_accepts_the_reverse_proxy_configuration(tmp_path: Path) -> None:
    nginx = tool("nginx", "nginx-light")
    openssl = tool("openssl", "openssl")
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subject = ["-subj", "/CN=bot.example", "-keyout", str(key), "-out", str(certificate)]
    subprocess.run([openssl, *request, *subject], capture_output=True, timeout=60, check=True)
    text = NGINX.read_text(encoding="utf-8")
    assert CERTIFICATE in text
    assert KEY in text
    site = tmp_path / "safety-bot.conf"
    site.write_text(text.replace(CERTIFICATE, str(certificate)).replace(KEY, str(key)))
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {site};\n}}\n"
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-e", str(tmp_path / "error.log"), "-c", str(main)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [
        line
        for line in result.stderr.splitlines()
        if '"user" directive makes sense only if the master process runs' not in line
    ]
    assert result.returncode == 0, result.stderr
    assert not [line for line in lines if "[warn]" in line or "[emerg]" in line], lines
    assert "test is successful" in result.stderr


def test_nginx_passes_only_the_webhook_path_on() -> None:
    text = NGINX.read_text(encoding="utf-8")
    assert "proxy_next_upstream error timeout http_502;" in text
    locations = [
        line.split()[1:-1] for line in text.splitlines() if line.strip().startswith("location")
    ]
    assert locations == [["=", "/telegram/webhook"], ["/"]]
    assert "/metrics" not in "".join(
        line for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    assert text.count("server 127.0.0.1:") >= 2, "several workers"


@pytest.mark.parametrize("config", CONFIGS, ids=lambda config: config.name)
def test_safety_bot_check_accepts_each_example_config(config: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    result = subprocess.run(
        [str(BIN), "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok:"), result.stdout
    values = [
        line
        for line in config.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    assert not [line for line in values if line.startswith(("token", "password"))]
    urls = [line.split('"')[1] for line in values if '"' in line and "://" in line]
    assert urls, "the shared database at least"
    assert all(".example" in url for url in urls), "placeholders only"
