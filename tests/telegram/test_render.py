"""The renderer: HTML escaping, Telegram's limits for every topic, locale and region, the spec,
and the payload ``safety-bot ask --platform telegram --json`` prints."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from bots.telegram import limits, render
from bots.telegram.render import telegram_name
from shared.commands import COMMANDS, TOPICS, Audience
from shared.content import default_content_path
from shared.core import Core
from shared.models import Age, Line, LinkButton, Reply, ReplyKind, Section, Settings
from tests.telegram import spec
from tests.telegram.conftest import BIN
from tests.telegram.fake import check_html
from tests.telegram.spec import assert_conforms, keyboard_problems, require_spec

HOSTILE = '<script>alert("x")</script> & <b>bold</b> <a href="tg://evil">x</a> &amp; </i>'


def every_advice(core: Core) -> list[Reply]:
    """Every topic in every locale and region, for both age groups and for neither."""
    return [
        core.advice(topic, locale, region, age)
        for topic in TOPICS
        for locale in core.content.locales
        for region in core.content.regions
        for age in (None, Age.UNDER18, Age.ADULT)
    ]


def test_hostile_strings_are_escaped() -> None:
    reply = Reply(
        title=HOSTILE,
        notice=HOSTILE,
        summary=HOSTILE,
        steps=(HOSTILE,),
        sections=(Section(HOSTILE, (Line(HOSTILE, HOSTILE, HOSTILE, "", HOSTILE),)),),
        closing=HOSTILE,
        sources=("https://example.org/<x>",),
        sources_label=HOSTILE,
    )
    text = render.text(reply)
    assert check_html(text) is None, text
    assert limits.tags(text) == {"b", "i"}
    assert "<script>" not in text
    assert render.escape(HOSTILE) in text
    # What the person reads is exactly what came in, markup and all, as plain text: title,
    # notice, summary, step, heading, name, age, phone, purpose, closing, sources label.
    assert html.unescape(limits.strip_tags(text)).count(HOSTILE) == 11


def test_title_bold_only_with_a_body() -> None:
    assert render.text(Reply(title="a < b", kind=ReplyKind.NOTICE)) == "a &lt; b"
    assert render.text(Reply(title="T", summary="s")) == "<b>T</b>\n\ns"


def test_help_writes_telegram_command_names(core: Core) -> None:
    text = render.text(core.help("en"))
    for command in COMMANDS:
        assert f"/{telegram_name(command.name)} " in text
    assert "/help-threatened" not in text


def test_every_topic_fits_telegram(core: Core) -> None:
    """Message length, HTML, buttons and callback data for every topic x locale x region x age."""
    for reply in every_advice(core):
        where = f"{reply.topic}/{reply.locale}/{reply.region}/{reply.age}"
        text = render.text(reply)
        assert render.messages(reply) == [text], f"{where} needs more than one message"
        assert limits.visible_length(text) <= limits.MESSAGE_TEXT, where
        assert check_html(text) is None, where
        rows = render.keyboard(reply)
        assert not keyboard_problems(rows), (where, keyboard_problems(rows))
        for row in rows:
            for button in row:
                if "url" in button:
                    assert button["url"].startswith(limits.LINK_SCHEMES), where
                    assert not button["url"].startswith(("tel:", "sms:")), where
                else:
                    data = button["callback_data"]
                    assert limits.valid_callback_data(data), (where, data)
                    assert render.parse_narrow(data) is not None


def test_every_deep_link_payload_is_valid(core: Core) -> None:
    for command in COMMANDS:
        if command.audience is Audience.MODERATORS:
            continue
        for region in core.content.regions:
            for language in (None, *core.content.locales):
                payload = render.start_payload(command.name, region, language)
                assert limits.DEEP_LINK_CHARS.match(payload), payload
                assert len(payload) <= limits.DEEP_LINK_PAYLOAD
                start = render.parse_start(payload)
                assert core.grammar.topic(start.command) == command.topic
                assert (start.region, start.language) == (region, language)
                link = render.deep_link("safety_test_bot", payload)
                assert limits.valid_button_url(link)


def test_parse_start_accepts_hand_typed_forms() -> None:
    assert render.parse_start("help-threatened") == render.Start("help-threatened", None, None)
    assert render.parse_start("help-threatened-GB-fr") == render.Start(
        "help-threatened", "GB", "fr"
    )
    assert render.parse_start("report") == render.Start("report", None, None)


def test_narrow_data_round_trips() -> None:
    data = render.narrow_data("help-threatened", "INTL", "under18", "fr")
    assert render.parse_narrow(data) == render.Narrow("help-threatened", "INTL", "under18", "fr")
    no_age = render.parse_narrow(render.narrow_data("report", "CA", None, "en"))
    assert no_age is not None
    assert no_age.age is None
    for junk in ("", "n", "x:a:b:c:d", "n:a:b:c", "n:a:b:c:d:e"):
        assert render.parse_narrow(junk) is None


def test_narrowing_offered_only_in_private_advice(core: Core) -> None:
    reply = core.advice("report", "en", "CA", None)
    assert any("callback_data" in b for row in render.keyboard(reply) for b in row)
    post = core.community_post("report", Settings())
    assert all("url" in b for row in render.keyboard(post) for b in row)
    about = core.advice("about", "en", "CA", None)
    assert all("url" in b for row in render.keyboard(about) for b in row)


def test_narrowing_marks_the_choice(core: Core) -> None:
    reply = core.advice("report", "en", "GB", Age.ADULT)
    labels = [b["text"] for row in render.keyboard(reply) for b in row if "callback_data" in b]
    assert f"{render.SELECTED}GB" in labels
    adult = core.text("en", "age_adult")
    assert f"{render.SELECTED}{adult}" in labels
    # Pressing the chosen age again shows both age groups again.
    chosen = next(
        b for row in render.keyboard(reply) for b in row if b["text"] == f"{render.SELECTED}{adult}"
    )
    assert render.parse_narrow(chosen["callback_data"]).age is None  # type: ignore[union-attr]


def test_a_reply_too_long_for_one_message_is_split() -> None:
    steps = tuple(f"step {i} <{'x' * 300}>" for i in range(40))
    long_line = "y" * 9000
    reply = Reply(
        title="T", steps=steps, closing=long_line, buttons=(LinkButton("L", "https://e.org"),)
    )
    pieces = render.messages(reply)
    assert len(pieces) > 2
    for piece in pieces:
        assert 1 <= limits.visible_length(piece) <= limits.MESSAGE_TEXT
        assert check_html(piece) is None
    joined = "".join(html.unescape(limits.strip_tags(p)) for p in pieces)
    assert joined.count("y") == 9000
    assert "step 39" in joined


def test_spec_checks_skip_when_the_spec_is_absent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spec, "SPEC", tmp_path / "absent.json")
    with pytest.raises(pytest.skip.Exception, match="spec not found"):
        spec.require_spec()


def test_payload_conforms_to_the_spec(core: Core) -> None:
    require_spec()
    calls = [("sendMessage", render.payload(reply, 42)) for reply in every_advice(core)]
    calls += [("sendMessage", render.payload(core.help(locale), 42)) for locale in ("en", "fr")]
    assert_conforms(calls)


def ask(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``safety-bot ask`` in a subprocess, on the shipped content, with no token set."""
    config = tmp_path / "config.toml"
    config.write_text(f"[content]\npath = {json.dumps(str(default_content_path()))}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_TOKEN", "DISCORD_TOKEN")}
    return subprocess.run(
        [str(BIN), "ask", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )


def test_ask_prints_the_exact_send_message_payload(core: Core, tmp_path: Path) -> None:
    result = ask(tmp_path, "/help-threatened", "--platform", "telegram", "--region", "GB", "--json")
    printed = json.loads(result.stdout)
    expected = render.payload(core.advice("help-threatened", "en", "GB", None))
    assert printed == json.loads(json.dumps(expected))
    assert printed["chat_id"] == render.PLACEHOLDER_CHAT_ID
    assert printed["parse_mode"] == "HTML"


def test_ask_prints_telegram_html(tmp_path: Path) -> None:
    out = ask(tmp_path, "/report", "--platform", "telegram", "--locale", "fr").stdout
    assert out.startswith("<b>")
    assert check_html(out.strip()) is None
    assert not re.search(r"<(?!/?[bi]>)", out)
