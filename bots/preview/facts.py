"""The resources a reply shows, and the facts a reviewer checks about each one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.content import STALE_AFTER, Content, Resource
from shared.core import Core
from shared.models import Age, Reply

AGE_WORDS = {Age.ALL: "everyone", Age.UNDER18: "under 18", Age.ADULT: "18 or over"}
"""A reader's age group, in the site's own words (the site's pages are in English)."""
CONFIDENCE_WORDS = {
    "high": "high: seen on the organisation's own page or an official release",
    "medium": "medium: seen on a reputable secondary page",
}
"""What a resource's ``confidence`` means, for a reviewer (as ../shared/facts.md rates it)."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact about a resource: a label, its value, a link if it has one, and why a
    reviewer should look at it (empty when nothing is wrong)."""

    label: str
    text: str
    url: str = ""
    warning: str = ""


def resource_facts(core: Core, resource: Resource, locale: str, today: date) -> list[Fact]:
    """Every fact the content records about ``resource``, as ``locale`` shows it: who it is
    for, how to reach it and when, where the facts come from, how well they were confirmed,
    and when a person last confirmed them.

    The one place that lists a resource's facts: the reply pages, the region pages and the
    change report all show what this returns. Labels and hours are the core's own words, as
    the bot shows them.
    """
    content = core.content
    words = content.resource_text(resource, locale)
    facts = [Fact("For", core.advisor.band_label(resource.band, locale))]
    if resource.image is not None:
        facts.append(Fact("Image", core.text(locale, f"image_{resource.image}")))
    if resource.phone or words.text_line:
        phone = " / ".join(filter(None, (resource.phone, words.text_line)))
        facts.append(Fact("Phone", phone))
    url = words.url or resource.url
    if url:
        facts.append(Fact("Web", url, url=url))
    hours = core.advisor.hours_text(resource, locale)
    if hours:
        facts.append(Fact("Hours", hours))
    facts.append(Fact("Source", resource.source, url=resource.source))
    facts.append(Fact("Confidence", CONFIDENCE_WORDS.get(resource.confidence, resource.confidence)))
    if resource.verified is None:
        facts.append(Fact("Verified", "not yet", warning="nobody has confirmed it on its source"))
    elif today - resource.verified > STALE_AFTER:
        facts.append(Fact("Verified", resource.verified.isoformat(), warning="over 12 months ago"))
    else:
        facts.append(Fact("Verified", resource.verified.isoformat()))
    return facts


def shown_resources(content: Content, reply: Reply) -> list[Resource]:
    """The resources whose lines ``reply`` shows, in the order it shows them (each line names
    the resource it shows), so the page lists what the person reads, whatever rules chose it."""
    region = content.region(reply.region)
    by_id = {resource.id: resource for resource in region.resources}
    found: list[Resource] = []
    for section in reply.sections:
        for line in section.lines:
            if not line.resource:
                continue
            resource = by_id.get(line.resource)
            if resource is None:
                raise LookupError(f"no resource of {region.code} has the id {line.resource!r}")
            if resource not in found:
                found.append(resource)
    return found
