"""Rendering without a network: every topic in every locale and region fits Discord's limits,
and every body conforms to Discord's spec."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bots.discord import limits, render
from shared.commands import TOPICS
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Age, LinkButton, Reply, ReplyKind
from tests.discord import spec

AGES = (None, Age.UNDER18, Age.ADULT)


@pytest.fixture(scope="module")
def pure(content: Content) -> Core:
    return Core(content, None, Config())


def every_reply(core: Core) -> list[Reply]:
    """Every topic, locale, region and age; the help and the error in every locale."""
    replies = [
        core.advice(topic, locale, region, age)
        for topic, locale, region, age in itertools.product(
            TOPICS, core.content.locales, core.content.regions, AGES
        )
    ]
    for locale in core.content.locales:
        replies += [core.help(locale), core.error_reply(locale)]
    return replies


def check_limits(body: dict[str, Any]) -> None:
    data = body["data"]
    assert len(data["embeds"]) <= limits.EMBEDS_PER_MESSAGE
    total = 0
    for embed in data["embeds"]:
        assert len(embed.get("title") or "") <= limits.EMBED_TITLE
        assert len(embed.get("description") or "") <= limits.EMBED_DESCRIPTION
        assert len((embed.get("footer") or {}).get("text") or "") <= limits.EMBED_FOOTER
        assert len(embed.get("fields") or []) <= limits.EMBED_FIELDS
        for field in embed.get("fields") or []:
            assert len(field["name"]) <= limits.EMBED_FIELD_NAME
            assert len(field["value"]) <= limits.EMBED_FIELD_VALUE
        total += limits.embed_length(embed)
    assert total <= limits.EMBED_TOTAL
    assert len(data.get("content") or "") <= limits.MESSAGE_CONTENT
    rows = data.get("components") or []
    assert len(rows) <= limits.ACTION_ROWS
    for row in rows:
        assert row["type"] == 1
        assert 1 <= len(row["components"]) <= limits.BUTTONS_PER_ROW
        for button in row["components"]:
            assert button["type"] == 2
            assert button["style"] == 5
            assert 1 <= len(button["label"]) <= limits.BUTTON_LABEL
            assert len(button["url"]) <= limits.BUTTON_URL
            assert button["url"].startswith(("https://", "http://"))


def test_every_topic_locale_region_and_age_fits_without_cutting(pure: Core) -> None:
    for reply in every_reply(pure):
        body = render.payload(reply)
        check_limits(body)
        embed = body["data"]["embeds"][0]
        # Nothing was cut: fit() is a safety net the shipped content never needs.
        assert not embed.get("description", "").endswith(limits.ELLIPSIS), reply.title
        full = render.description(reply) or render.escape(reply.title)
        assert embed["description"] == full
        assert len(render.escape(reply.title)) <= limits.EMBED_TITLE
        shown = [b for row in body["data"].get("components", []) for b in row["components"]]
        assert [b["label"] for b in shown] == [b.label for b in reply.buttons]


def test_phone_numbers_stay_in_the_text(pure: Core) -> None:
    for region in pure.content.regions.values():
        reply = pure.advice("help-threatened", "en", region.code, None)
        body = render.payload(reply)
        buttons = [b for row in body["data"].get("components", []) for b in row["components"]]
        assert not any(b["url"].startswith(("tel:", "sms:")) for b in buttons)
        for section in reply.sections:
            for line in section.lines:
                if line.phone:
                    assert render.escape(line.phone) in body["data"]["embeds"][0]["description"]


def test_every_body_conforms_to_discords_spec(pure: Core) -> None:
    spec.require_spec()
    seen = set()
    for reply in every_reply(pure):
        body = render.payload(reply)
        key = repr(body)
        if key not in seen:
            seen.add(key)
            spec.assert_callback(body)


def test_buttons_five_per_row_five_rows_web_links_only() -> None:
    links = [LinkButton(f"Resource {i}", f"https://example.org/{i}") for i in range(30)]
    links.insert(3, LinkButton("Call", "tel:911"))
    links.insert(4, LinkButton("Long", "https://example.org/" + "x" * 600))
    links.insert(5, LinkButton("L" * 120, "https://example.org/long-label"))
    reply = Reply(title="t", summary="s", buttons=tuple(links))
    rows = render.components(reply)
    assert [len(r["components"]) for r in rows] == [5, 5, 5, 5, 5]
    urls = [b["url"] for r in rows for b in r["components"]]
    assert "tel:911" not in urls
    assert all(len(u) <= limits.BUTTON_URL for u in urls)
    labels = [b["label"] for r in rows for b in r["components"]]
    assert max(map(len, labels)) == limits.BUTTON_LABEL
    check_limits(render.payload(reply))


def test_overlong_text_is_cut_to_the_limits_as_a_last_resort() -> None:
    reply = Reply(
        title="T" * 300,
        summary="S" * 5000,
        steps=tuple("x" * 900 for _ in range(3)),
        sources=tuple(f"https://host{i}.example.org/" for i in range(200)),
        sources_label="Sources",
    )
    body = render.payload(reply)
    check_limits(body)
    embed = body["data"]["embeds"][0]
    assert embed["title"].endswith(limits.ELLIPSIS)
    assert embed["description"].endswith(limits.ELLIPSIS)


def test_markdown_in_content_is_shown_literally() -> None:
    reply = Reply(title="*Not bold*", summary="a_b *c* `d` ~~e~~ |f|", steps=("# not a heading",))
    embed = render.embed(reply).to_dict()
    assert embed["title"] == "\\*Not bold\\*"
    assert "a\\_b \\*c\\* \\`d\\` \\~\\~e\\~\\~ \\|f\\|" in embed["description"]
    assert "1. \\# not a heading" in embed["description"]


def test_a_notice_is_one_sentence_in_the_description() -> None:
    body = render.payload(Reply(title="Saved.", kind=ReplyKind.NOTICE))
    assert body == {
        "type": 4,
        "data": {
            "tts": False,
            "content": None,
            "embeds": [
                {
                    "type": "rich",
                    "description": "Saved.",
                    "color": render.COLOURS[ReplyKind.NOTICE],
                    "flags": 0,
                }
            ],
            "flags": 64,
            "allowed_mentions": {"parse": []},
        },
    }


def test_text_reads_like_the_embed(pure: Core) -> None:
    reply = pure.advice("report", "en", "CA", None)
    shown = render.text(reply)
    assert shown.startswith(f"**{render.escape(reply.title)}**")
    assert all(b.url in shown for b in reply.buttons)
    assert render.footer(reply) in shown
