"""Checks against the Telegram Bot API description (``../shared/specs``), when present.

A call conforms when every field it sends exists for that method (or type, recursively), every
required field is present, every value has one of the documented types, and the documented
limits hold (text length, callback data, command names, button URLs, scope types).
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest

from bots.telegram import limits
from tests.conftest import SPECS

SPEC = SPECS / "telegram-bot-api.json"
_MUST_BE = re.compile(r"must be (\w+)")


def require_spec() -> dict[str, Any]:
    """The spec, or skip: it lives beside the repository, not in it."""
    if not SPEC.is_file():
        pytest.skip(f"Telegram Bot API spec not found at {SPEC}; conformance is not checked")
    return _load()


@functools.cache
def _load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC.read_text())
    return data


def method_problems(method: str, body: dict[str, Any]) -> list[str]:
    """Everything wrong with a call of ``method`` with ``body``; empty when it conforms."""
    spec = require_spec()
    if method not in spec["methods"]:
        return [f"{method}: no such method"]
    problems = _fields(spec["methods"][method].get("fields", []), body, method)
    problems += _limits(method, body)
    return problems


def _fields(fields: list[dict[str, Any]], value: dict[str, Any], where: str) -> list[str]:
    known = {f["name"]: f for f in fields}
    problems = [f"{where}.{key}: not in the spec" for key in value if key not in known]
    for name, field in known.items():
        if name not in value:
            if field["required"]:
                problems.append(f"{where}.{name}: required but missing")
            continue
        must = _MUST_BE.search(" ".join(field.get("description", "").split()))
        if name == "type" and must and value[name] != must.group(1):
            problems.append(f"{where}.type: must be {must.group(1)}, not {value[name]!r}")
        problems += _value(value[name], field["types"], f"{where}.{name}")
    return problems


def _value(value: Any, types: list[str], where: str) -> list[str]:
    """Problems of ``value`` against the best-matching of ``types`` (empty if one fits)."""
    best: list[str] | None = None
    for kind in types:
        found = _one(value, kind, where)
        if not found:
            return []
        if best is None or len(found) < len(best):
            best = found
    return best or [f"{where}: no type in {types}"]


def _one(value: Any, kind: str, where: str) -> list[str]:
    if kind.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{where}: must be an array ({kind})"]
        inner = kind.removeprefix("Array of ")
        return [p for i, item in enumerate(value) for p in _one(item, inner, f"{where}[{i}]")]
    simple = {
        "String": lambda v: isinstance(v, str),
        "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Float": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Boolean": lambda v: isinstance(v, bool),
        "True": lambda v: v is True,
    }
    if kind in simple:
        return [] if simple[kind](value) else [f"{where}: must be {kind}, not {value!r}"]
    types = _load()["types"]
    if kind not in types:
        return [f"{where}: unknown type {kind}"]
    spec = types[kind]
    if "subtypes" in spec:
        return _value(value, spec["subtypes"], where)
    if not isinstance(value, dict):
        return [f"{where}: must be an object ({kind})"]
    return _fields(spec.get("fields", []), value, f"{where}<{kind}>")


def _limits(method: str, body: dict[str, Any]) -> list[str]:
    """The documented limits the field types alone do not say."""
    problems = []
    text = body.get("text")
    if method in ("sendMessage", "editMessageText") and isinstance(text, str):
        length = limits.visible_length(text) if body.get("parse_mode") == "HTML" else len(text)
        if not 1 <= length <= limits.MESSAGE_TEXT:
            problems.append(f"{method}.text: {length} characters, must be 1-4096")
        if body.get("parse_mode") == "HTML" and not limits.tags(text) <= limits.HTML_TAGS:
            problems.append(f"{method}.text: tags {limits.tags(text) - limits.HTML_TAGS}")
    if method == "answerCallbackQuery" and len(body.get("text") or "") > 200:
        problems.append("answerCallbackQuery.text: over 200 characters")
    markup = body.get("reply_markup")
    if isinstance(markup, dict):
        problems += keyboard_problems(markup.get("inline_keyboard") or [])
    if method == "setMyCommands":
        commands = body.get("commands") or []
        if len(commands) > limits.COMMANDS_PER_LIST:
            problems.append(f"setMyCommands: {len(commands)} commands, at most 100")
        for command in commands:
            if not limits.COMMAND_NAME.match(str(command.get("command"))):
                problems.append(f"setMyCommands: bad command name {command.get('command')!r}")
            if not 1 <= len(str(command.get("description") or "")) <= limits.COMMAND_DESCRIPTION:
                problems.append(f"setMyCommands: description of {command.get('command')!r}")
        code = body.get("language_code")
        if code is not None and not re.fullmatch(r"[a-z]{2}", str(code)):
            problems.append(f"setMyCommands.language_code: {code!r} is not two letters")
    return problems


def keyboard_problems(rows: list[list[dict[str, Any]]]) -> list[str]:
    """An inline keyboard's limits: sizes, one action per button, URLs, callback data."""
    problems = []
    if sum(len(row) for row in rows) > limits.KEYBOARD_BUTTONS:
        problems.append("keyboard: over 100 buttons")
    for row in rows:
        if not 1 <= len(row) <= limits.BUTTONS_PER_ROW:
            problems.append(f"keyboard: a row of {len(row)} buttons")
        for button in row:
            actions = set(button) - {"text", "icon_custom_emoji_id", "style"}
            if len(actions) != 1:
                problems.append(f"button {button.get('text')!r}: actions {sorted(actions)}")
            if not str(button.get("text") or "").strip():
                problems.append("button: empty label")
            url = button.get("url")
            if url is not None and not limits.valid_button_url(url):
                problems.append(f"button {button.get('text')!r}: URL {url!r} not http(s)/tg")
            data = button.get("callback_data")
            if data is not None and not limits.valid_callback_data(data):
                problems.append(f"button {button.get('text')!r}: callback data {data!r}")
    return problems


def assert_conforms(calls: list[tuple[str, dict[str, Any]]]) -> None:
    """Fail listing every problem of every call."""
    found = [p for method, body in calls for p in method_problems(method, body)]
    assert not found, "\n".join(found)
