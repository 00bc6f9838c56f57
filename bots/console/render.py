"""Terminal rendering of a reply: plain text a person can read, and a JSON form for tools."""

from __future__ import annotations

import dataclasses
from typing import Any

from shared.layout import body_text, sources_text
from shared.models import Reply


def text(reply: Reply) -> str:
    """The reply as it reads in a terminal."""
    parts = [reply.title.upper() if reply.kind == "advice" else reply.title]
    body = body_text(reply)
    if body:
        parts.append(body)
    if reply.buttons:
        parts.append("\n".join(f"[{b.label}] {b.url}" for b in reply.buttons))
    footer = sources_text(reply)
    if footer:
        parts.append(footer)
    return "\n\n".join(parts)


def payload(reply: Reply) -> dict[str, Any]:
    """The reply as plain data (what the console adapter works from)."""
    return dataclasses.asdict(reply)
