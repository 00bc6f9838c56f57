"""Property tests for Telegram: whatever arrives in a deep link, a button's callback data or a
typed message, no exception escapes, and every message the bot would send is valid HTML parse
mode with only its own tags (bold and italic), and every button is one Telegram accepts and
leads back to advice.

The handlers' own pure steps are called (no network), so `make test` stays fast; `make fuzz`
runs them with the long profile.
"""

from __future__ import annotations

import asyncio
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bots.telegram import limits, render
from bots.telegram.handlers import Handlers
from bots.telegram.render import telegram_name
from bots.telegram.send import community_of
from shared.commands import BY_NAME, COMMANDS, TOPICS, Audience
from shared.core import Core
from shared.models import Reply, Request, Settings
from tests.telegram.fake import GROUP_ID, check_html

PAYLOAD_CHARS = string.ascii_letters + string.digits + "_-"
NAMES = [c.name for c in COMMANDS] + [telegram_name(c.name) for c in COMMANDS]
HOSTILE_WORDS = ["<b>", "</i>", "&", "&amp", "<a href='x'>", '<span class="x">', "<tg-spoiler>"]
words = st.one_of(
    st.sampled_from(["GB", "ca", "INTL", "fr", "en", "adult", "under18", "report", *NAMES]),
    st.sampled_from(HOSTILE_WORDS),
    st.text(max_size=30),
)
locales = st.one_of(st.none(), st.sampled_from(["en", "fr", "fr-CA", "xx"]), st.text(max_size=12))


def one_word(text: str) -> bool:
    """Whether ``text`` is one word, as the bot splits a message (payloads are ``args[0]``)."""
    return text.split() == [text]


payloads = st.one_of(
    st.text(alphabet=PAYLOAD_CHARS, min_size=1, max_size=limits.DEEP_LINK_PAYLOAD),
    st.lists(
        st.one_of(st.sampled_from(NAMES), st.text(alphabet=PAYLOAD_CHARS, max_size=8)),
        min_size=1,
        max_size=4,
    ).map("-".join),
    st.text(min_size=1, max_size=200).filter(one_word),
)


def fits_callback(data: str) -> bool:
    return len(data.encode()) <= limits.CALLBACK_DATA_BYTES


callback_data = st.one_of(
    st.text(max_size=limits.CALLBACK_DATA_BYTES),
    st.tuples(
        st.sampled_from(["n", "N", "x", ""]),
        st.one_of(st.sampled_from(list(TOPICS)), words),
        st.one_of(st.sampled_from(["GB", "CA", "us", "INTL"]), words),
        st.one_of(st.sampled_from(["-", "adult", "under18"]), words),
        locales.map(str),
    ).map(":".join),
).filter(fits_callback)


def assert_sendable(reply: Reply, handlers: Handlers) -> None:
    """Every piece is HTML Telegram accepts with only the renderer's tags; every button is a
    valid link or callback whose data leads back to advice."""
    for piece in render.messages(reply):
        assert check_html(piece) is None, piece
        assert limits.tags(piece) <= {"b", "i"}, piece
    for row in render.keyboard(reply):
        for button in row:
            if "url" in button:
                assert limits.valid_button_url(button["url"]), button
                continue
            data = button["callback_data"]
            assert limits.valid_callback_data(data), data
            narrow = render.parse_narrow(data)
            assert narrow is not None, data
            assert narrowed(handlers, narrow, reply.locale) is not None, data


def narrowed(handlers: Handlers, narrow: render.Narrow, locale: str) -> Reply | None:
    """The advice a narrowing button asks for, as the core gives it to the handlers."""
    return handlers.core.dispatch.narrowed(narrow.topic, narrow.region, narrow.age, locale)


@pytest.fixture(scope="module")
def handlers(hostile_core: Core) -> Handlers:
    return Handlers(hostile_core)


@given(payload=payloads, user_locale=locales)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_deep_link_payloads(handlers: Handlers, payload: str, user_locale: str | None) -> None:
    request = handlers.start_request(payload, user_locale, None)
    assert BY_NAME[request.command].audience is Audience.EVERYONE, "never a moderator command"
    reply = asyncio.run(handlers.core.handle(request))
    assert_sendable(reply, handlers)


@given(data=callback_data, user_locale=locales)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_callback_data(handlers: Handlers, data: str, user_locale: str | None) -> None:
    narrow = render.parse_narrow(data)
    if narrow is None:
        return  # on_button only answers the query
    locale = handlers.core.locale_for(user_locale, Settings(language=narrow.locale))
    reply = narrowed(handlers, narrow, locale)
    if reply is not None:
        assert reply.topic in TOPICS
        assert_sendable(reply, handlers)


@given(
    first=st.one_of(st.sampled_from(NAMES).map("/{}".format), st.text(max_size=40)),
    rest=st.lists(words, max_size=12),
    user_locale=locales,
    in_group=st.booleans(),
    moderator=st.booleans(),
)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_typed_messages(
    handlers: Handlers,
    first: str,
    rest: list[str],
    user_locale: str | None,
    in_group: bool,
    moderator: bool,
) -> None:
    """A message read as on_command and on_text read it, by the core's grammar."""
    read = handlers.core.read(" ".join([first, *rest]))
    if read is None:
        return
    request = Request(
        command=read.name or read.command,
        options=read.options,
        user_locale=user_locale,
        community=community_of(GROUP_ID) if in_group else None,
        is_moderator=moderator,
        is_private_chat=not in_group,
    )
    reply = asyncio.run(handlers.core.handle(request))
    assert_sendable(reply, handlers)
