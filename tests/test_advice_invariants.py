"""Issue 12's invariants, on every rendered reply: topic x region x age x locale x platform.

Each combination is rendered by the real renderers (console text, Telegram's sendMessage body,
Discord's interaction callback body) and checked as a person would read it. Facts about the
content (which line answers 24/7, which ages a service serves) come from the loaded content;
`safety-bot check` guards the content itself, this test guards the code that shows it.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bots.console import render as console
from bots.discord import limits as discord_limits
from bots.discord import render as discord
from bots.telegram import limits as telegram_limits
from bots.telegram import render as telegram
from shared.commands import TOPICS
from shared.config import Config
from shared.content import FALLBACK_REGION, Content, Resource
from shared.core import Core
from shared.layout import FIRST_SCREEN, FIRST_STEP_WITHIN, body_text, source_hosts
from shared.models import GROUP_BANDS, Age, AgeBand, Line, Reply, Request, bands_cover

AGES = (None, Age.UNDER18, Age.ADULT)
PLATFORMS = ("console", "telegram", "discord")
EVIDENCE_TOPICS = ("help-threatened", "image-shared", "report", "for-parents")

# Words per locale that the invariants look for in what a person reads.
CRISIS_WORDS = {"en": r"crisis line|support line", "fr": r"ligne de crise|lignes? de soutien"}
NEVER_SCREENSHOT = {
    "en": r"[Nn]ever screenshot",
    "fr": r"[Nn]e capturez jamais|[Nn]e faites jamais de capture|[Jj]amais de capture",
}
PAGE_SCREENSHOT = {
    "en": r"screenshots? that shows? the web address",
    "fr": r"captures? d'écran montrant",
}
DEACTIVATE = {"en": r"[Dd]eactivate", "fr": r"[Dd]ésactive"}
ALREADY_PAID = {"en": r"Already paid", "fr": r"Déjà payé"}
DEVICE = {"en": r"\bdevice\b", "fr": r"\bappareil\b"}
DOWNLOAD = {"en": r"download", "fr": r"télécharg"}
FINGERPRINT = {"en": r"fingerprint|device|never leaves", "fr": r"empreinte|appareil"}
CRIME = {"en": r"\bis a crime\b", "fr": r"\best un crime\b"}
# How each country is named; none may appear in another region's reply.
COUNTRY_WORDS = {
    "CA": r"\bCanad|\bcanadien",
    "US": r"\bUnited States\b|\bUS\b|\bÉtats-Unis\b|\bAmerican\b",
    "GB": r"\bUK\b|\bUnited Kingdom\b|\bRoyaume-Uni\b|\bBritish\b",
    "IE": r"\bIreland\b|\bIrish\b|\bIrlande\b|\birlandais",
    "AU": r"\bAustrali",
    "NZ": r"\bNew Zealand\b|\bNouvelle-Zélande\b|\bNZ\b|\bN\.-Z\.",
}
# French typography: a colon that ends a word, then a space (not "https://", not "10:00").
TIGHT_COLON = re.compile(r"\S:(?=\s|$)")


@dataclass(frozen=True)
class Shown:
    """What a person sees of one reply on one platform."""

    text: str
    """Everything readable except the sources footer, markup removed."""
    links: tuple[str, ...]
    """The web links they can open (buttons)."""
    footer: str


@dataclass(frozen=True)
class Case:
    topic: str
    region: str
    age: Age | None
    locale: str
    platform: str

    def __str__(self) -> str:
        age = self.age.value if self.age else "no age"
        return f"/{self.topic} {self.region}, {age}, {self.locale}, {self.platform}"


@pytest.fixture(scope="module")
def pure(content: Content) -> Core:
    return Core(content, None, Config())


def show(reply: Reply, platform: str) -> Shown:
    """The reply as rendered for ``platform``, reduced to what a person reads and opens."""
    if platform == "console":
        whole = console.text(reply)
        footer = _footer(whole, reply)
        return Shown(whole.removesuffix(footer), tuple(b.url for b in reply.buttons), footer)
    if platform == "telegram":
        messages = telegram.messages(reply)
        assert len(messages) == 1, "one Telegram message"
        body = telegram.payload(reply)
        assert telegram_limits.visible_length(body["text"]) <= telegram_limits.MESSAGE_TEXT
        rows = body.get("reply_markup", {}).get("inline_keyboard", [])
        for row in rows:
            assert len(row) <= telegram_limits.BUTTONS_PER_ROW
            for button in row:
                assert button["text"]
                if "callback_data" in button:
                    assert telegram_limits.valid_callback_data(button["callback_data"])
                else:
                    assert telegram_limits.valid_button_url(button["url"])
        links = tuple(button["url"] for row in rows for button in row if "url" in button)
        whole = html.unescape(telegram_limits.strip_tags(body["text"]))
        footer = _footer(whole, reply)
        return Shown(whole.removesuffix(footer), links, footer)
    data = discord.payload(reply)["data"]
    embed = data["embeds"][0]
    description = embed.get("description") or ""
    assert len(description) <= discord_limits.EMBED_DESCRIPTION
    assert not description.endswith(discord_limits.ELLIPSIS), "nothing cut"
    assert len(embed.get("title") or "") <= discord_limits.EMBED_TITLE
    footer = (embed.get("footer") or {}).get("text", "")
    assert len(footer) <= discord_limits.EMBED_FOOTER
    assert discord_limits.embed_length(embed) <= discord_limits.EMBED_TOTAL
    buttons = [b for row in data.get("components", []) for b in row["components"]]
    assert len(buttons) <= discord_limits.BUTTONS_PER_ROW * discord_limits.ACTION_ROWS
    assert all(1 <= len(b["label"]) <= discord_limits.BUTTON_LABEL for b in buttons)
    text = f"{embed.get('title') or ''}\n\n{description}"
    # Discord's markdown escapes are not what a person reads.
    text = re.sub(r"\\(.)", r"\1", text).replace("@\u200b", "@")
    return Shown(text, tuple(b["url"] for b in buttons), footer)


def _footer(whole: str, reply: Reply) -> str:
    """The sources footer at the end of a rendered text ("" when there is none)."""
    label = f"{reply.sources_label}{reply.colon}"
    at = whole.rfind(label)
    return whole[at:] if reply.sources and at >= 0 else ""


def cases(content: Content) -> Iterator[Case]:
    for topic, region, age, locale, platform in itertools.product(
        TOPICS, content.regions, AGES, content.locales, PLATFORMS
    ):
        yield Case(topic, region, age, locale, platform)


def resource_of(content: Content, region: str, line: Line) -> Resource:
    found = [r for r in content.regions[region].resources if r.id == line.resource]
    assert found, f"line {line.name!r} names no resource of {region}"
    return found[0]


def lines_of(reply: Reply) -> list[Line]:
    return [line for section in reply.sections for line in section.lines]


def service_hosts(content: Content, region: str) -> set[str]:
    """The sites of services listed for other regions but not this one."""

    def hosts(code: str) -> set[str]:
        urls = tuple(r.url for r in content.regions[code].resources if r.url)
        return set(source_hosts(urls))

    return {host for code in content.regions if code != region for host in hosts(code)} - hosts(
        region
    )


def groups(age: Age | None) -> tuple[Age, ...]:
    """The reader groups a reply speaks to: theirs, or both when they gave no age."""
    return (age,) if age is not None else (Age.UNDER18, Age.ADULT)


@pytest.mark.parametrize("topic", TOPICS)
def test_every_combination_keeps_the_promises_of_issue_12(
    pure: Core, content: Content, topic: str
) -> None:
    failures: list[str] = []
    for case in (c for c in cases(content) if c.topic == topic):
        reply = pure.advice(case.topic, case.locale, case.region, case.age)
        try:
            shown = show(reply, case.platform)
            check_reply(content, case, reply, shown)
        except AssertionError as error:
            failures.append(f"{case}: {str(error).splitlines()[0]}")
    assert not failures, f"{len(failures)} combinations fail:\n" + "\n".join(failures[:20])


def check_reply(content: Content, case: Case, reply: Reply, shown: Shown) -> None:
    entry = content.topics[case.topic]
    locale = case.locale
    age = entry.age or case.age  # for-parents is about a child, whoever reads it
    lines = lines_of(reply)
    resources = {line.resource: resource_of(content, case.region, line) for line in lines}
    steps = "\n".join(reply.steps)

    # 1. A crisis line, always: when the text sends the reader to one, or the topic promises
    # one, a line that answers 24/7 (INTL: a crisis-line finder) is shown with its number or
    # text line, its hours, and a link; together they serve every age the reply speaks to.
    if entry.crisis or re.search(CRISIS_WORDS[locale], shown.text):
        now = [
            line
            for line in lines
            if resources[line.resource].kind == "support"
            and (resources[line.resource].answers_now or resources[line.resource].finder)
        ]
        assert now, "no crisis line that answers 24/7"
        for line in now:
            assert line.url in shown.links, f"no link to {line.name}"
            if resources[line.resource].answers_now:
                assert line.phone, f"{line.name}: no number"
                assert line.phone in shown.text, f"{line.name}: number not shown"
                assert line.hours == content.ui(locale, "hours_24_7"), line.name
        if case.region != FALLBACK_REGION:
            bands = [resources[line.resource].band for line in now]
            for group in groups(age):
                assert bands_cover(bands, GROUP_BANDS[group]), f"no 24/7 line for every {group}"
    # Every service says when it answers, in every view.
    for line in lines:
        assert line.hours, f"{line.name}: no hours"
        assert line.hours in shown.text, f"{line.name}: hours not shown"

    # 2. Age of the image, and age bands: services about images taken before 18 are shown to
    # adults, labelled; no service is shown to a group it is not for; a band that is not the
    # reader's own group is named.
    for line in lines:
        resource = resources[line.resource]
        if age is not None:
            assert resource.band.overlaps(GROUP_BANDS[age]), f"{line.name} is not for {age}"
        if resource.image is Age.UNDER18 and age is not Age.UNDER18:
            label = content.ui(locale, "image_under18")
            assert line.age_label == label, line.name
            assert f"({label})" in shown.text, line.name
        elif resource.image is None and resource.band not in (
            GROUP_BANDS[Age.ALL],
            GROUP_BANDS.get(age or Age.ALL),
        ):
            assert line.age_label, f"{line.name}: its ages are not named"
            assert f"({line.age_label})" in shown.text, line.name
    if "remove" in entry.show:
        ids = {line.resource for line in lines}
        assert "take-it-down" in ids, "Take It Down hidden"
        if age is Age.ADULT:
            assert "stopncii" in ids
        if age is Age.UNDER18:
            assert "stopncii" not in ids

    # 3. Removal told truly: only the fingerprint tools speak of the device; every step that
    # does says not to download the image again; the removal tools shown are linked.
    for line in lines:
        resource = resources[line.resource]
        if resource.kind == "remove" and resource.id not in ("take-it-down", "stopncii"):
            assert not re.search(FINGERPRINT[locale], line.purpose), f"{line.name} misdescribed"
    for step in reply.steps:
        if re.search(DEVICE[locale], step):
            assert re.search(DOWNLOAD[locale], step), f"device without 'do not download': {step}"
    removal = [line for line in lines if resources[line.resource].kind == "remove"]
    if "remove" in entry.show:
        assert removal, "no removal tool"
        for line in removal:
            assert line.url in shown.links, f"{line.name} not linked"

    # 4. Evidence rules that do not contradict.
    if case.topic in EVIDENCE_TOPICS and age is not Age.ADULT:
        assert re.search(NEVER_SCREENSHOT[locale], steps), "no 'never screenshot the image'"
    if age is Age.UNDER18:
        assert not re.search(PAGE_SCREENSHOT[locale], shown.text), "screenshot a page, under 18"
    if case.topic in ("help-threatened", "report"):
        assert re.search(DEACTIVATE[locale], steps), "no 'deactivate, don't delete'"

    # 5. Already paid or already sent more.
    if case.topic in ("help-threatened", "report"):
        assert re.search(ALREADY_PAID[locale], steps), "no already-paid guidance"

    # 6. A place to report for everyone; police first for Canadian adults; 101 in the UK.
    if "report" in entry.show:
        heading = content.ui(locale, "heading_report")
        report = [s for s in reply.sections if s.heading == heading]
        assert report, "no Report section"
        assert report[0].lines, "an empty Report section"
        ids = [line.resource for line in report[0].lines]
        if case.region == "CA" and age is Age.ADULT:
            assert ids[0] == "police", f"police not first: {ids}"
            assert "anti-fraud-centre" in ids, ids
        if case.region == "GB" and age is not Age.UNDER18:
            assert any(line.phone == "101" for line in report[0].lines)

    # 7. Only what applies to the reader: no other country named, no law line that is not
    # theirs, a footer of the topic's general sources and the shown services' and notes'.
    for code, words in COUNTRY_WORDS.items():
        if code != case.region:
            found = re.search(words, shown.text)
            assert not found, f"names another country: {found.group(0) if found else ''}"
    notes = [n for n in content.regions[case.region].notes if n.topic == case.topic]
    if case.topic == "image-shared" and not notes:
        assert not re.search(CRIME[locale], shown.text), "a law line for another country"
    allowed = [*entry.sources, *(r.source for r in resources.values()), *(n.source for n in notes)]
    hosts = set(source_hosts(tuple(allowed)))
    shown_hosts = set(source_hosts(reply.sources))
    assert shown_hosts <= hosts, f"footer lists {shown_hosts - hosts}"
    assert all(host in shown.footer for host in shown_hosts), "footer not shown"
    elsewhere = shown_hosts & service_hosts(content, case.region)
    assert not elsewhere, f"footer names a service of another region: {elsewhere}"

    # 9 (typography, read as the reader does): French spaces its colons.
    if content.locales[locale].space_before_colon:
        tight = TIGHT_COLON.search(shown.text + shown.footer)
        assert not tight, f"no space before ':' near {shown.text[tight.start() - 20 :][:40]!r}"

    # 11. Still one screen: /help-threatened's body within 1,500 characters, first step early.
    if case.topic == "help-threatened":
        body = body_text(reply)
        assert len(body) <= FIRST_SCREEN, f"body {len(body)} characters"
        assert body.index("1. ") < FIRST_STEP_WITHIN, "first step too late"


UNKNOWN = ("DE", "Atlantis", "Deutschland")


@pytest.mark.parametrize("typed", UNKNOWN)
async def test_a_region_the_bot_does_not_know_gets_international_advice(
    pure: Core, content: Content, typed: str
) -> None:
    """8. Unknown region means INTL, never another country: the local emergency number, a
    crisis-line finder, Take It Down and StopNCII.org, the local police; INHOPE only for
    images of under-18s."""
    for topic, locale, age in itertools.product(TOPICS, content.locales, AGES):
        options = {"region": typed, **({"age": age.value} if age else {})}
        request = Request(f"/{topic}", options, user_locale=locale)
        reply = await pure.handle(request)
        case = f"/{topic} region:{typed} {age} {locale}"
        assert reply.region == FALLBACK_REGION, case
        assert typed in reply.notice, case
        entry = content.topics[topic]
        shown = show(reply, "console").text.replace(reply.notice, "")
        for code, words in COUNTRY_WORDS.items():
            assert not re.search(words, shown), (case, code)
        if any("{emergency}" in s for s in _topic_texts(content, topic, locale)):
            assert content.ui(locale, "emergency_unknown") in shown, case
        urls = {b.url for b in reply.buttons}
        if entry.crisis:
            assert "https://findahelpline.com" in urls, case
        if "remove" in entry.show:
            assert "https://takeitdown.ncmec.org" in urls, case
            if (entry.age or age) is not Age.UNDER18:
                assert "https://stopncii.org" in urls, case
        if "report" in entry.show:
            ids = {line.resource: line for line in lines_of(reply)}
            assert "police" in ids, case
            inhope = ids.get("inhope")
            if inhope is not None and (entry.age or age) is not Age.UNDER18:
                assert inhope.age_label == content.ui(locale, "image_under18"), case


def _topic_texts(content: Content, topic: str, locale: str) -> list[str]:
    text = content.topic_text(topic, locale)
    variants = [v for step in text.steps for _, v in step.variants()]
    return [text.title, text.summary, text.closing, *variants]


def test_age_bands_are_named_and_adults_over_25_get_a_line_in_australia(
    pure: Core, content: Content
) -> None:
    """Kids Helpline serves ages 5 to 25: adults see it labelled, and Lifeline beside it."""
    reply = pure.advice("help-threatened", "en", "AU", Age.ADULT)
    lines = {line.resource: line for line in lines_of(reply)}
    assert lines["kids-helpline"].age_label == "ages 5 to 25"
    assert "lifeline" in lines
    assert bands_cover([AgeBand(5, 25), AgeBand()], GROUP_BANDS[Age.ADULT])
    assert not bands_cover([AgeBand(5, 25)], GROUP_BANDS[Age.ADULT])
