"""One grammar for what people type (shared/typed.py), through the core: every way of writing
a command gets the same, correct answer; unknown values are corrected; free text is no
command."""

from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.commands import BY_NAME, COMMANDS, Option
from shared.content import Content
from shared.core import Core
from shared.models import Age, Community, Reply, ReplyKind, Request

GROUP = Community("console", "typed")


async def ask(core: Core, line: str, *, locale: str = "en", moderator: bool = False) -> Reply:
    """What the console answers (a moderator in a community) or a private chat answers."""
    typed = core.read(line)
    assert typed is not None
    request = Request(
        typed.name or typed.command,
        typed.options,
        locale,
        community=GROUP if moderator else None,
        is_moderator=moderator,
    )
    return await core.handle(request)


@pytest.mark.parametrize(
    ("line", "topic", "region", "age"),
    [
        ("/report region:US age:adult", "report", "US", Age.ADULT),
        ("/report US adult", "report", "US", Age.ADULT),
        ("/report adult US", "report", "US", Age.ADULT),
        ("/REPORT us ADULT", "report", "US", Age.ADULT),
        ("/report UK 15", "report", "GB", Age.UNDER18),
        ("/report 15 UK", "report", "GB", Age.UNDER18),
        ("/report age:15", "report", "CA", Age.UNDER18),
        ("/report 17", "report", "CA", Age.UNDER18),
        ("/report 18", "report", "CA", Age.ADULT),
        ("/report 0", "report", "CA", Age.UNDER18),
        ("/report 120", "report", "CA", Age.ADULT),
        ("/report 15yo", "report", "CA", Age.UNDER18),
        ("/report 15 years old", "report", "CA", Age.UNDER18),
        ("/report 16 ans", "report", "CA", Age.UNDER18),
        ("/report under 18", "report", "CA", Age.UNDER18),
        ("/report 18 or over", "report", "CA", Age.ADULT),
        ("/report moins de 18 ans", "report", "CA", Age.UNDER18),
        ("/report 18 ans ou plus", "report", "CA", Age.ADULT),
        ("/help_threatened Canada", "help-threatened", "CA", None),
        ("/help-threatened New Zealand", "help-threatened", "NZ", None),
        ("/help-threatened new_zealand", "help-threatened", "NZ", None),
        ("/help-threatened Aotearoa", "help-threatened", "NZ", None),
        ("/image-shared Ireland", "image-shared", "IE", None),
        ("/image-shared Éire", "image-shared", "IE", None),
        ("/image-shared eire", "image-shared", "IE", None),
        ("/image-shared Northern Ireland", "image-shared", "GB", None),
        ("/resources USA", "resources", "US", None),
        ("/resources U.S.A.", "resources", "US", None),
        ("/resources United States of America adult", "resources", "US", Age.ADULT),
        ("/resources États-Unis", "resources", "US", None),
        ("/resources Australia", "resources", "AU", None),
        ("/resources Royaume-Uni", "resources", "GB", None),
        ("/resources British Columbia", "resources", "CA", None),
        ("/resources International", "resources", "INTL", None),
        ("/report region:new zealand age:18+", "report", "NZ", Age.ADULT),
        ("/report region: New Zealand", "report", "NZ", None),
        ('/report region:"New Zealand"', "report", "NZ", None),
        ("/report Region=UK AGE=under_18", "report", "GB", Age.UNDER18),
        ("/report country:UK", "report", "GB", None),
        ("/report région:Irlande âge:16", "report", "IE", Age.UNDER18),
        ("/report UK, 15.", "report", "GB", Age.UNDER18),
        ("/ report UK", "report", "GB", None),
        ("/report@safety_bot GB", "report", "GB", None),
        # /for-parents is about a child: it always shows what is for under-18s.
        ("/for-parents GB", "for-parents", "GB", Age.UNDER18),
        # Words without a slash are a command when every word after it is an option.
        ("report aotearoa", "report", "NZ", None),
        ("Report UK 15", "report", "GB", Age.UNDER18),
        ("help-threatened", "help-threatened", "CA", None),
        # A sentence after a command: names count, lower-case codes and bare numbers do not.
        ("/report I am 15 years old and live in the UK", "report", "GB", Age.UNDER18),
        ("/help-threatened j'habite au Royaume-Uni", "help-threatened", "GB", None),
        ("/help-threatened they are blackmailing us", "help-threatened", "CA", None),
        ("/report he wants 500 dollars from me", "report", "CA", None),
        ("/report i live in the US", "report", "US", None),
    ],
)
async def test_every_way_of_typing_a_command(
    core: Core, line: str, topic: str, region: str, age: Age | None
) -> None:
    reply = await ask(core, line)
    assert (reply.topic, reply.region, reply.age) == (topic, region, age), line
    assert reply.notice == "", "nothing to correct"


WAYS = {
    "command": ["/report", "/REPORT", "/Report", "/report@safety_bot"],
    "region": [
        "GB",
        "gb",
        "UK",
        "u.k.",
        "United Kingdom",
        "united_kingdom",
        "United-Kingdom",
        "Royaume-Uni",
        "Scotland",
        "region:GB",
        "Region:uk",
        "REGION=united_kingdom",
        "région:Royaume-Uni",
        "country:UK",
    ],
    "age": ["15", "age:15", "AGE:under_18", "under-18", "Under18", "under 18", "15yo", "âge:16"],
}


@given(
    command=st.sampled_from(WAYS["command"]),
    region=st.sampled_from(WAYS["region"]),
    age=st.sampled_from(WAYS["age"]),
    swap=st.booleans(),
)
def test_options_in_any_order_case_and_spelling(
    hostile_core: Core, command: str, region: str, age: str, swap: bool
) -> None:
    words = [age, region] if swap else [region, age]
    reply = asyncio.run(ask(hostile_core, " ".join([command, *words])))
    assert (reply.topic, reply.region, reply.age, reply.notice) == (
        "report",
        "GB",
        Age.UNDER18,
        "",
    )


@pytest.mark.parametrize(
    ("line", "options"),
    [
        ("/setup CA fr", {"region": "CA", "language": "fr"}),
        ("/setup fr GB", {"region": "GB", "language": "fr"}),
        ("/setup Français New Zealand", {"region": "New Zealand", "language": "Français"}),
        ("/setup language:fr-CA", {"language": "fr-CA"}),
        ("/setup fr", {"language": "fr"}),
        ("/pin-advice report", {"topic": "report"}),
        ("/pin_advice help_threatened", {"topic": "help_threatened"}),
        ("/pin-advice help threatened", {"topic": "help threatened"}),
        ("/unpin-advice topic:report", {"topic": "report"}),
        ("/about US", {}),
        ("/report US adult extra", {"region": "US", "age": "adult"}),
        ("/report Narnia", {"region": "Narnia"}),
        ("/report South Sudan 15", {"region": "South Sudan", "age": "15"}),
        ("/setup GB Klingon", {"region": "GB", "language": "Klingon"}),
    ],
)
def test_options_as_read(core: Core, line: str, options: dict[str, str]) -> None:
    typed = core.read(line)
    assert typed is not None
    assert dict(typed.options) == options


@pytest.mark.parametrize(
    "line",
    [
        "I am scared he will send it to my friends",
        "help me",
        "someone is threatening me",
        "report him",
        "report Narnia",
        "hello?",
        "😢",
    ],
)
def test_words_that_are_no_command_are_free_text(core: Core, line: str) -> None:
    typed = core.read(line)
    assert typed is not None
    assert typed.free_text
    assert (typed.name, dict(typed.options)) == (None, {})


def test_blank_lines_are_nothing(core: Core) -> None:
    assert core.read("") is None
    assert core.read(" \t ") is None


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_free_text_gets_a_warm_pointer_never_an_unknown_command(
    core: Core, content: Content, locale: str
) -> None:
    reply = await ask(core, "I am scared he will send it to my friends", locale=locale)
    assert reply.kind is ReplyKind.NOTICE
    assert reply.title == content.ui(locale, "free_text_title")
    assert [line.name for line in reply.sections[0].lines] == [
        "help-threatened",
        "image-shared",
        "resources",
    ]
    assert "command" not in reply.title.lower()
    unknown = content.ui(locale, "unknown_command", command="/I").split("/I")[0]
    assert unknown not in reply.title


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_an_unknown_region_is_corrected_and_answered_for_international(
    core: Core, content: Content, locale: str
) -> None:
    reply = await ask(core, "/report Narnia 15", locale=locale)
    assert (reply.topic, reply.region, reply.age) == ("report", "INTL", Age.UNDER18)
    assert '"Narnia"' in reply.notice or "« Narnia »" in reply.notice
    assert content.region_name(content.regions["NZ"], locale) in reply.notice


@pytest.mark.parametrize("typed", ["age:old", "250", "age:999"])
async def test_an_unknown_age_is_corrected_and_answered_for_every_age(
    core: Core, typed: str
) -> None:
    reply = await ask(core, f"/report GB {typed}")
    assert (reply.region, reply.age) == ("GB", None)
    assert "is not an age I understand" in reply.notice
    assert typed.removeprefix("age:") in reply.notice


GRAMMAR = {
    # option: (line, words the message must use in en, and in fr)
    Option.REGION: ("/setup Narnia", "is not a region", "n'est pas une région"),
    Option.LANGUAGE: ("/setup language:Klingon", "is not a language", "n'est pas une langue"),
    Option.TOPIC: ("/pin-advice nonsense", "is not a topic", "n'est pas un sujet"),
}


@pytest.mark.parametrize("option", list(GRAMMAR))
@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_each_options_correction_is_its_own_sentence(
    core: Core, option: Option, locale: str
) -> None:
    line, english, french = GRAMMAR[option]
    reply = await ask(core, line, locale=locale, moderator=True)
    assert reply.kind is ReplyKind.REFUSAL
    assert (english if locale == "en" else french) in reply.title
    assert line.split(":")[-1].split()[-1] in reply.title
    assert " a age" not in reply.title
    french_age = await ask(core, "/report age:vieux", locale="fr")
    assert "n'est pas un âge" in french_age.notice


async def test_pin_advice_without_a_topic_says_what_to_add(core: Core) -> None:
    reply = await ask(core, "/pin-advice", moderator=True)
    assert reply.kind is ReplyKind.REFUSAL
    assert '""' not in reply.title
    assert "/pin-advice report" in reply.title


async def test_unpin_advice_with_a_topic_unpins_and_never_shows_the_advice(core: Core) -> None:
    reply = await ask(core, "/unpin-advice topic:report", moderator=True)
    assert reply.kind is ReplyKind.NOTICE
    assert reply.topic is None
    assert reply.title == core.text("en", "unpin_none")
    refused = await ask(core, "/unpin-advice nonsense", moderator=True)
    assert refused.kind is ReplyKind.REFUSAL


async def test_pin_advice_with_a_positional_topic_previews_it(core: Core) -> None:
    reply = await ask(core, "/pin-advice report", moderator=True)
    assert (reply.kind, reply.topic, reply.private) == (ReplyKind.ADVICE, "report", False)


def test_typed_values_agree_with_their_codes(core: Core) -> None:
    same = core.grammar.same
    assert same(Option.REGION, "UK", "GB")
    assert same(Option.REGION, "New Zealand", "nz")
    assert not same(Option.REGION, "US", "GB")
    assert same(Option.AGE, "15", "under18")
    assert not same(Option.AGE, "15", "adult")
    assert same(Option.TOPIC, "pin_advice", "pin-advice")


@given(line=st.text(max_size=300))
def test_any_line_reads_as_a_command_and_its_own_options_or_free_text(
    hostile_core: Core, line: str
) -> None:
    typed = hostile_core.read(line)
    if typed is None:
        assert not line.split()
        return
    if typed.name is None:
        assert typed.options == {}
        return
    wanted = {option.value for option in BY_NAME[typed.name].options}
    assert set(typed.options) <= wanted


@given(
    name=st.sampled_from([c.name for c in COMMANDS]),
    words=st.lists(
        st.one_of(
            st.sampled_from(["UK", "us", "15", "adult", "fr", "report", "region:", "age:x"]),
            st.text(max_size=12),
        ),
        max_size=20,
    ),
    seed=st.integers(0, 3),
)
def test_typed_options_never_break_an_answer(
    hostile_core: Core, name: str, words: list[str], seed: int
) -> None:
    random.Random(seed).shuffle(words)
    reply = asyncio.run(ask(hostile_core, " ".join([f"/{name}", *words]), moderator=seed % 2 == 0))
    assert reply.title
