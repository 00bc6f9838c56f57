"""The core's rules: language, region, age, moderators, settings, cooldown, failures."""

import itertools
from pathlib import Path
from typing import Any

import pytest

from shared.commands import COMMANDS, TOPICS
from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Age, Community, ReplyKind, Request, Settings
from shared.store import SqliteStore

GROUP = Community("telegram", "-1001")


def names(reply: Any) -> set[str]:
    return {line.name for section in reply.sections for line in section.lines}


def resource_names(content: Content, region: str, locale: str, age: Age) -> set[str]:
    return {
        content.resource_text(r, locale).name
        for r in content.regions[region].resources
        if r.age is age
    }


@pytest.mark.parametrize("topic", TOPICS)
async def test_every_topic_renders_for_every_locale_region_and_age(
    core: Core, content: Content, topic: str
) -> None:
    for locale, region, age in itertools.product(
        content.locales, content.regions, (None, "under18", "adult")
    ):
        options = {"region": region, **({"age": age} if age else {})}
        reply = await core.handle(Request(f"/{topic}", options, user_locale=locale))
        assert reply.kind is ReplyKind.ADVICE
        assert reply.title
        assert reply.steps
        assert reply.sources
        assert (reply.locale, reply.region) == (locale, region)
        assert "{" not in "".join(reply.steps), "unfilled placeholder"


async def test_default_region_is_canada_with_both_age_groups(core: Core, content: Content) -> None:
    reply = await core.handle(Request("/resources"))
    assert reply.region == "CA"
    assert reply.age is None
    shown = names(reply)
    assert resource_names(content, "CA", "en", Age.UNDER18) <= shown
    assert resource_names(content, "CA", "en", Age.ADULT) <= shown
    labels = {line.age_label for s in reply.sections for line in s.lines}
    assert {content.ui("en", "age_under18"), content.ui("en", "age_adult")} <= labels


async def test_age_selects_resources(core: Core, content: Content) -> None:
    young = await core.handle(Request("/resources", {"age": "under18", "region": "CA"}))
    adult = await core.handle(Request("/resources", {"age": "adult", "region": "CA"}))
    assert resource_names(content, "CA", "en", Age.UNDER18) <= names(young)
    assert not resource_names(content, "CA", "en", Age.ADULT) & names(young)
    assert resource_names(content, "CA", "en", Age.ADULT) <= names(adult)
    assert not resource_names(content, "CA", "en", Age.UNDER18) & names(adult)
    assert all(not line.age_label for s in young.sections for line in s.lines)


async def test_international_tools_appear_in_every_region(core: Core, content: Content) -> None:
    everywhere = {r.id for r in content.regions["INTL"].resources if r.everywhere}
    assert everywhere
    for region in content.regions.values():
        assert everywhere <= {r.id for r in region.resources}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("fr-CA", "fr"), ("fr", "fr"), ("FR_ca", "fr"), ("en-US", "en"), ("de", "en"), (None, "en")],
)
async def test_locale_fallback(core: Core, typed: str | None, expected: str) -> None:
    reply = await core.handle(Request("/about", user_locale=typed))
    assert reply.locale == expected


async def test_person_language_beats_community_language(core: Core) -> None:
    await core.save_settings(GROUP, Settings("GB", "fr"))
    assert (await core.handle(Request("/about", community=GROUP))).locale == "fr"
    reply = await core.handle(Request("/about", community=GROUP, user_locale="en-GB"))
    assert reply.locale == "en"
    assert (await core.handle(Request("/report", community=GROUP))).region == "GB"


async def test_region_option_beats_community_and_accepts_names(core: Core) -> None:
    await core.save_settings(GROUP, Settings("GB", None))
    reply = await core.handle(Request("/report", {"region": "new zealand"}, community=GROUP))
    assert reply.region == "NZ"


async def test_unknown_region_gives_international_advice_with_a_notice(core: Core) -> None:
    """A country the bot has no file for gets INTL advice, never another country's numbers."""
    reply = await core.handle(Request("/help-threatened", {"region": "Atlantis"}))
    assert reply.kind is ReplyKind.ADVICE
    assert reply.region == "INTL", "never another country's numbers for an unknown one"
    assert "Atlantis" in reply.notice
    assert "International" in reply.notice
    assert "911" not in "".join(reply.steps)


@pytest.mark.parametrize("command", [c.name for c in COMMANDS if c.audience == "moderators"])
async def test_moderator_commands_refused_to_others_and_in_private(
    core: Core, command: str
) -> None:
    member = await core.handle(Request(f"/{command}", community=GROUP, is_moderator=False))
    assert member.kind is ReplyKind.REFUSAL
    assert command in member.title
    private = await core.handle(Request(f"/{command}", is_moderator=True))
    assert private.kind is ReplyKind.REFUSAL
    assert private.title != member.title


async def test_setup_saves_and_confirms_in_the_new_language(core: Core, store: SqliteStore) -> None:
    reply = await core.handle(
        Request("/setup", {"region": "au", "language": "fr"}, community=GROUP, is_moderator=True)
    )
    assert reply.kind is ReplyKind.NOTICE
    assert reply.locale == "fr"
    assert "AU" in reply.title
    assert await store.get_settings(GROUP) == Settings("AU", "fr")


async def test_setup_without_options_shows_current_settings(core: Core) -> None:
    reply = await core.handle(Request("/setup", community=GROUP, is_moderator=True))
    assert "CA" in reply.title
    assert "en" in reply.title


async def test_setup_refuses_unknown_values(core: Core, store: SqliteStore) -> None:
    reply = await core.handle(
        Request("/setup", {"language": "klingon"}, community=GROUP, is_moderator=True)
    )
    assert reply.kind is ReplyKind.REFUSAL
    assert "klingon" in reply.title
    assert await store.get_settings(GROUP) is None


class CountingStore:
    """Wraps a store and counts reads, to prove the hot path does not query."""

    def __init__(self, inner: SqliteStore, fail: bool = False) -> None:
        self.inner = inner
        self.reads = 0
        self.fail = fail

    async def get_settings(self, community: Community) -> Settings | None:
        self.reads += 1
        if self.fail:
            raise OSError("disk is gone")
        return await self.inner.get_settings(community)

    async def save_settings(self, community: Community, settings: Settings) -> None:
        if self.fail:
            raise OSError("disk is full")
        await self.inner.save_settings(community, settings)


async def test_settings_are_read_once_per_community(
    content: Content, store: SqliteStore, config: Config
) -> None:
    counting = CountingStore(store)
    core = Core(content, counting, config)  # type: ignore[arg-type]
    for _ in range(20):
        await core.handle(Request("/help-threatened", community=GROUP))
    assert counting.reads == 1


async def test_broken_store_still_answers_and_says_it_could_not_save(
    content: Content, store: SqliteStore, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    core = Core(content, CountingStore(store, fail=True), config)  # type: ignore[arg-type]
    for _ in range(3):
        advice = await core.handle(Request("/help-threatened", community=GROUP))
        assert advice.kind is ReplyKind.ADVICE
        assert advice.region == "CA"
    saved = await core.handle(
        Request("/setup", {"region": "US"}, community=GROUP, is_moderator=True)
    )
    assert saved.kind is ReplyKind.ERROR
    assert saved.title == content.ui("en", "save_failed")
    assert len([r for r in caplog.records if r.levelname == "ERROR"]) == 1, "logged once a minute"


async def test_cooldown_answers_kindly_then_recovers(content: Content, tmp_path: Path) -> None:
    now = [0.0]
    config = Config(database=tmp_path / "x", cooldown_commands=2, cooldown_seconds=10)
    core = Core(content, None, config, clock=lambda: now[0])

    def setup(person: str) -> Request:
        return Request("/setup", community=GROUP, is_moderator=True, user_key=person)

    first = [await core.handle(setup("p1")) for _ in range(2)]
    assert all(r.title.startswith("This community's settings") for r in first)
    slowed = await core.handle(setup("p1"))
    assert slowed.kind is ReplyKind.NOTICE
    assert "5" in slowed.title
    assert (await core.handle(setup("p2"))).title == first[0].title
    now[0] = 5.0
    assert (await core.handle(setup("p1"))).title == first[0].title


async def test_cooldown_never_refuses_advice_to_a_person_in_a_panic(
    content: Content, tmp_path: Path
) -> None:
    """The same advice again and again, every topic, help: a frightened person tapping fast
    is never asked to wait; only a script far beyond that is."""
    now = [0.0]
    config = Config(database=tmp_path / "x", cooldown_commands=5, cooldown_seconds=30)
    core = Core(content, None, config, clock=lambda: now[0])
    waiting = content.ui("en", "cooldown", seconds="0").split("0")[0]
    panic = [f"/{c.name}" for c in COMMANDS if c.audience == "everyone"] * 3
    for typed in panic:  # 24 private answers within a second
        now[0] += 0.04
        reply = await core.handle(Request(typed, user_key="p1"))
        assert not reply.title.startswith(waiting), typed
    flood = [await core.handle(Request("/report", user_key="p1")) for _ in range(20)]
    assert flood[-1].title == core.text("en", "cooldown", seconds="1")
    # A pointer posted in a group (Telegram) still counts: five, then the person waits.
    group = Request("/report", community=Community("telegram", "g"), user_key="p1")
    pointers = [await core.point(group) for _ in range(6)]
    assert [pointer is not None for pointer in pointers] == [True] * 5 + [False]


@pytest.mark.parametrize("typed", ["/nope", "/", "/help-me-please" * 10])
async def test_unknown_commands_get_a_pointer_to_help(core: Core, typed: str) -> None:
    reply = await core.handle(Request(typed))
    assert reply.kind is ReplyKind.NOTICE
    assert "/help" in reply.title


@pytest.mark.parametrize("typed", ["nope", "   ", "", "I am scared"])
async def test_words_that_are_no_command_get_a_pointer_to_start(core: Core, typed: str) -> None:
    reply = await core.handle(Request(typed))
    assert reply.kind is ReplyKind.NOTICE
    assert reply == core.free_text_reply("en")
    assert "/help" in reply.closing


@pytest.mark.parametrize(
    "typed", ["/help_threatened", "/HELP-THREATENED", "/help-threatened@MyBot"]
)
async def test_command_spellings(core: Core, typed: str) -> None:
    assert (await core.handle(Request(typed))).topic == "help-threatened"


async def test_help_lists_every_command(core: Core) -> None:
    reply = await core.handle(Request("/help"))
    listed = {line.name for section in reply.sections for line in section.lines}
    assert listed == {c.name for c in COMMANDS}


@pytest.mark.parametrize("locale", ["en", "fr"])
async def test_help_says_its_heading_once(core: Core, locale: str) -> None:
    reply = await core.handle(Request("/help", user_locale=locale))
    headings = [reply.title, *(section.heading for section in reply.sections)]
    assert len(set(headings)) == len(headings), headings


async def test_pin_preview_uses_the_community_settings(core: Core) -> None:
    await core.save_settings(GROUP, Settings("IE", "fr"))
    request = Request("/pin-advice", {"topic": "help_threatened"}, "en", GROUP, is_moderator=True)
    reply = await core.handle(request)
    assert (reply.topic, reply.region, reply.locale, reply.private) == (
        "help-threatened",
        "IE",
        "fr",
        False,
    )


async def test_content_version_tracks_what_is_shown(core: Core) -> None:
    a = core.community_post("report", Settings("CA", "en"))
    b = core.community_post("report", Settings("CA", "en"))
    c = core.community_post("report", Settings("GB", "en"))
    assert core.content_version(a) == core.content_version(b)
    assert core.content_version(a) != core.content_version(c)


async def test_forget_community_deletes_rows_and_cache(core: Core, store: SqliteStore) -> None:
    await core.save_settings(GROUP, Settings("US", "fr"))
    await core.forget_community(GROUP)
    assert await store.get_settings(GROUP) is None
    assert (await core.settings(GROUP)) == Settings()
