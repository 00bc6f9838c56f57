"""The one text layout every platform uses for a reply's body.

Adapters pass how to escape text, emphasise a heading and write a command name (Telegram:
``/help_threatened``); the order and wording of what a person reads is decided only here.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from shared.models import Line, Reply, Section

Transform = Callable[[str], str]

FIRST_SCREEN = 1500
"""Characters of /help-threatened's body (summary, steps, resource lines; not the sources)
in every region, language and age: a frightened person reads one screen (the removal link and
the crisis line with its hours justify the 300 above the old 1,200)."""
FIRST_STEP_WITHIN = 300
"""Its first step begins within this many characters of the body."""


def _same(text: str) -> str:
    return text


def slash(name: str) -> str:
    """A command as typed on Discord and in the console."""
    return f"/{name}"


def line_text(line: Line, escape: Transform = _same, colon: str = ": ") -> str:
    """``• Cybertip.ca (under 18): 1-866-658-9022, or online any time — tipline for ...``

    ``colon`` is the reply's language's colon (French: ``" : "``).
    """
    text = f"• {escape(line.name)}"
    if line.age_label:
        text += f" ({escape(line.age_label)})"
    reach = ", ".join(escape(part) for part in (line.phone, line.hours) if part)
    if reach:
        text += f"{colon}{reach}"
    if line.purpose:
        text += f" — {escape(line.purpose)}"
    return text


def section_text(
    section: Section,
    escape: Transform = _same,
    heading: Transform = _same,
    command: Transform = slash,
    colon: str = ": ",
) -> list[str]:
    """A section's heading and its lines; command sections write names with ``command``."""
    lines = [heading(escape(section.heading))]
    for line in section.lines:
        if section.commands:
            lines.append(f"{escape(command(line.name))} — {escape(line.purpose)}")
        else:
            lines.append(line_text(line, escape, colon))
    return lines


def body_text(
    reply: Reply,
    escape: Transform = _same,
    heading: Transform = _same,
    command: Transform = slash,
) -> str:
    """Everything below the title: notice, summary, numbered steps, sections, closing."""
    blocks: list[str] = []
    if reply.notice:
        blocks.append(escape(reply.notice))
    if reply.summary:
        blocks.append(escape(reply.summary))
    if reply.steps:
        blocks.append("\n".join(f"{i}. {escape(s)}" for i, s in enumerate(reply.steps, 1)))
    for section in reply.sections:
        blocks.append("\n".join(section_text(section, escape, heading, command, reply.colon)))
    if reply.closing:
        blocks.append(escape(reply.closing))
    return "\n\n".join(blocks)


def sources_text(reply: Reply) -> str:
    """The footer: ``Sources: cybertip.ca, ...`` (``Sources : ...`` in French), or ""."""
    if not reply.sources:
        return ""
    hosts = ", ".join(source_hosts(reply.sources))
    return f"{reply.sources_label}{reply.colon}{hosts}" if reply.sources_label else hosts


def source_hosts(sources: tuple[str, ...]) -> list[str]:
    """Sources as short host names, in order, without repeats (for footers)."""
    hosts: list[str] = []
    for url in sources:
        host = urlsplit(url).hostname or url
        host = host.removeprefix("www.")
        if host not in hosts:
            hosts.append(host)
    return hosts
