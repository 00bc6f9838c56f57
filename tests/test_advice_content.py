"""Quality bars of the advice itself (issue: correct, sourced, bilingual, by region and age)."""

import itertools
import re

import pytest

from bots.console import render
from shared.commands import TOPICS
from shared.content import Content
from shared.core import Core
from shared.layout import FIRST_SCREEN, FIRST_STEP_WITHIN, body_text
from shared.models import Age

AGES = (None, Age.UNDER18, Age.ADULT)
JARGON = re.compile(r"\b(CSAM|NCII)\b")


def combos(content: Content) -> list[tuple[str, str, Age | None]]:
    return list(itertools.product(content.locales, content.regions, AGES))


def test_help_threatened_fits_one_screen(core: Core, content: Content) -> None:
    for locale, region, age in combos(content):
        reply = core.advice("help-threatened", locale, region, age)
        body = body_text(reply)
        assert len(body) <= FIRST_SCREEN, (locale, region, age, len(body))
        assert body.index("1. ") < FIRST_STEP_WITHIN, (locale, region, age)


@pytest.mark.parametrize("topic", ["help-threatened", "report", "resources"])
def test_region_reporting_line_and_emergency_number_appear(
    core: Core, content: Content, topic: str
) -> None:
    for locale, code, age in combos(content):
        region = content.regions[code]
        text = render.text(core.advice(topic, locale, code, age))
        if region.emergency:
            assert region.emergency in text, (topic, locale, code, age)
        for resource in region.resources:
            fits = age is None or resource.age in (age, Age.ALL)
            if resource.kind == "report" and not resource.everywhere and fits:
                name = content.resource_text(resource, locale).name
                assert name in text, (topic, locale, code, age, name)


def test_help_threatened_names_a_crisis_or_emergency_line(core: Core, content: Content) -> None:
    for locale, code, age in combos(content):
        reply = core.advice("help-threatened", locale, code, age)
        region = content.regions[code]
        expected = region.emergency or content.ui(locale, "emergency_unknown")
        assert expected in " ".join(reply.steps), (locale, code)


def test_removal_tools_follow_the_age_of_the_image(core: Core, content: Content) -> None:
    """Take It Down is for images taken before 18, whatever the reader's age today: an adult
    whose image was taken at 16 sees it, labelled for that case. StopNCII.org (images taken
    at 18 or over) is for adults only."""
    for locale in content.locales:
        young = core.advice("image-shared", locale, "CA", Age.UNDER18)
        adult = core.advice("image-shared", locale, "CA", Age.ADULT)
        young_urls = " ".join(b.url for b in young.buttons)
        adult_urls = " ".join(b.url for b in adult.buttons)
        assert "takeitdown.ncmec.org" in young_urls
        assert "stopncii.org" not in young_urls
        assert "stopncii.org" in adult_urls
        assert "takeitdown.ncmec.org" in adult_urls
        label = content.ui(locale, "image_under18")
        lines = {line.resource: line for section in adult.sections for line in section.lines}
        assert lines["take-it-down"].age_label == label
        young_lines = {line.resource: line for s in young.sections for line in s.lines}
        assert young_lines["take-it-down"].age_label == ""


def test_canadian_french_names(core: Core) -> None:
    text = render.text(core.advice("resources", "fr", "CA", None))
    assert "Cyberaide.ca" in text
    assert "AidezMoiSVP.ca" in text
    assert "https://www.cyberaide.ca" in text


def test_plain_language_and_button_labels(core: Core, content: Content) -> None:
    for topic, (locale, code, age) in itertools.product(TOPICS, combos(content)):
        reply = core.advice(topic, locale, code, age)
        assert not JARGON.search(render.text(reply)), (topic, locale)
        for button in reply.buttons:
            assert button.url.startswith("https://")
            assert "click" not in button.label.lower()
            assert len(button.label) >= 8, button.label


def test_every_topic_keeps_its_sources(content: Content) -> None:
    for topic in content.topics.values():
        assert topic.sources
        assert all(source.startswith("https://") for source in topic.sources)


def test_old_us_crisis_number_is_never_shown(core: Core, content: Content) -> None:
    for topic, (locale, code, age) in itertools.product(TOPICS, combos(content)):
        assert "273-8255" not in render.text(core.advice(topic, locale, code, age))
