"""The resources a reply shows, and the facts a reviewer checks about each one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.content import STALE_AFTER, Content, Resource
from shared.models import Age, Reply

AGE_WORDS = {Age.ALL: "everyone", Age.UNDER18: "under 18", Age.ADULT: "18 or over"}
"""Who a resource is for, in the site's own words (the site's pages are in English)."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One fact about a resource: a label, its value, a link if it has one, and why a
    reviewer should look at it (empty when nothing is wrong)."""

    label: str
    text: str
    url: str = ""
    warning: str = ""


def resource_facts(content: Content, resource: Resource, locale: str, today: date) -> list[Fact]:
    """Every fact the content records about ``resource``, as ``locale`` shows it: who it is
    for, how to reach it, where the facts come from and when a person last confirmed them.

    The one place that lists a resource's facts: the reply pages, the region pages and the
    change report all show what this returns.
    """
    words = content.resource_text(resource, locale)
    facts = [Fact("For", AGE_WORDS[resource.age])]
    if resource.phone:
        phone = " / ".join(filter(None, (resource.phone, words.text_line)))
        facts.append(Fact("Phone", phone))
    url = words.url or resource.url
    if url:
        facts.append(Fact("Web", url, url=url))
    facts.append(Fact("Source", resource.source, url=resource.source))
    if resource.verified is None:
        facts.append(Fact("Verified", "not yet", warning="nobody has confirmed it on its source"))
    elif today - resource.verified > STALE_AFTER:
        facts.append(Fact("Verified", resource.verified.isoformat(), warning="over 12 months ago"))
    else:
        facts.append(Fact("Verified", resource.verified.isoformat()))
    return facts


def shown_resources(content: Content, reply: Reply) -> list[Resource]:
    """The resources whose lines ``reply`` shows, in the order it shows them.

    Read back from the reply's lines (name, link and phone in its language), so the page
    lists what the person reads, whatever rules chose it.
    """
    region = content.region(reply.region)
    found: list[Resource] = []
    for section in reply.sections:
        if section.commands:
            continue
        for line in section.lines:
            for resource in region.resources:
                words = content.resource_text(resource, reply.locale)
                if (
                    words.name == line.name
                    and (words.url or resource.url) == line.url
                    and resource.phone in line.phone
                    and resource not in found
                ):
                    found.append(resource)
                    break
            else:
                raise LookupError(f"no resource of {region.code} shows as {line.name!r}")
    return found
