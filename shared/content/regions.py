"""Reading ``regions/<CODE>.toml``: a region's emergency number, names, resources and notes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from shared.commands import TOPICS
from shared.content.model import (
    CONFIDENCE,
    FALLBACK_REGION,
    HOURS,
    HOURS_LIMITED,
    KINDS,
    NOTE_PLACES,
    Note,
    Region,
    Resource,
    ResourceText,
)
from shared.content.reader import TOPIC_PLACEHOLDERS, Reader, placeholders
from shared.models import GROUP_BANDS, Age, AgeBand
from shared.problems import TomlFile
from shared.tomlpos import KeyPath
from shared.typed import fold

REQUIRED_REGIONS = ("CA", "US", "GB", "AU", "NZ", "IE", FALLBACK_REGION)
_PHONE = re.compile(r"^\+?\d[\d -]*\d( / \+?\d[\d -]*\d)*$|^\d{3}$")
_BAND = re.compile(r"^(\d{1,2})-(\d{1,2})$")
_BELOW = re.compile(r"^under(\d{1,2})$")
_REGION_CODE = re.compile(r"^[A-Z]{2}$|^INTL$")


@dataclass(frozen=True, slots=True)
class RegionFile:
    """A region as read from its file, and the file (for the line of a problem that the
    checks across files find later)."""

    region: Region
    file: TomlFile


def read_regions(reader: Reader, locales: Iterable[str]) -> dict[str, RegionFile]:
    """Every ``regions/*.toml``, by code, with texts in each of ``locales``; the regions of
    :data:`REQUIRED_REGIONS` are required."""
    found: dict[str, RegionFile] = {}
    codes = tuple(locales)
    for path in sorted((reader.root / "regions").glob("*.toml")):
        file = reader.open(path)
        if file is None:
            continue
        meta = file.data.get("region", {})
        code = path.stem
        if not _REGION_CODE.match(code):
            reader.error(file, (), f"file name must be a region code like CA or INTL: {code!r}")
            continue
        emergency = reader.text(file, meta, ("region",), "emergency", False)
        if not emergency and code != FALLBACK_REGION:
            reader.warn(file, ("region", "emergency"), "no emergency number for this region")
        if emergency and not _PHONE.match(emergency):
            reader.error(file, ("region", "emergency"), "must be a number a phone can dial")
        names = _read_names(reader, file, meta, codes)
        aliases = _read_aliases(reader, file, meta)
        resources = _read_resources(reader, file, codes)
        notes = _read_notes(reader, file, codes)
        region = Region(
            code, emergency, MappingProxyType(names), resources, aliases=aliases, notes=notes
        )
        found[code] = RegionFile(region, file)
    for code in REQUIRED_REGIONS:
        if code not in found:
            reader.missing(reader.root / "regions" / f"{code}.toml", f"region {code} is missing")
    return found


def _read_names(
    reader: Reader, file: TomlFile, meta: Any, codes: tuple[str, ...]
) -> dict[str, str]:
    names = meta.get("name", {}) if isinstance(meta, dict) else {}
    if not isinstance(names, dict):
        reader.error(file, ("region", "name"), "must be a table of names by locale")
        return {}
    for code in codes:
        reader.text(file, names, ("region", "name"), code, True)
    return {k: v for k, v in names.items() if isinstance(v, str)}


def _read_aliases(reader: Reader, file: TomlFile, meta: Any) -> tuple[str, ...]:
    aliases = meta.get("aliases", []) if isinstance(meta, dict) else []
    if not isinstance(aliases, list) or not all(
        isinstance(alias, str) and fold(alias) for alias in aliases
    ):
        reader.error(file, ("region", "aliases"), 'must be a list of names, like ["UK"]')
        return ()
    return tuple(aliases)


def _read_resources(reader: Reader, file: TomlFile, codes: tuple[str, ...]) -> tuple[Resource, ...]:
    seen: set[str] = set()
    resources: list[Resource] = []
    for path, table in reader.tables(file, "resources"):
        resource = _read_resource(reader, file, table, path, codes)
        if resource.id in seen:
            reader.error(file, (*path, "id"), f"duplicate id {resource.id!r}")
        seen.add(resource.id)
        resources.append(resource)
    return tuple(resources)


def _read_resource(
    reader: Reader, file: TomlFile, table: dict[str, Any], path: KeyPath, codes: tuple[str, ...]
) -> Resource:
    rid = reader.text(file, table, path, "id", True)
    kind = reader.text(file, table, path, "kind", True)
    if kind and kind not in KINDS:
        reader.error(file, (*path, "kind"), f"must be one of {list(KINDS)}")
    band = _read_band(reader, file, table, path)
    image = _read_image(reader, file, table, path)
    local = reader.flag(file, table, path, "local")
    url = reader.url(file, table, path, "url", kind != "emergency" and not local)
    phone = reader.text(file, table, path, "phone", kind == "emergency")
    if phone and not _PHONE.match(phone):
        reader.error(file, (*path, "phone"), f"{phone!r} is not a number a phone can dial")
    hours = reader.choice(file, table, path, "hours", HOURS)
    texts: dict[str, ResourceText] = {}
    for code in codes:
        texts[code] = _read_resource_text(
            reader, file, table, (*path, code), code, bool(url), hours == HOURS_LIMITED
        )
    return Resource(
        rid,
        kind,
        band.group,
        url,
        phone,
        source=reader.url(file, table, path, "source", True),
        verified=reader.verified(file, table, path),
        everywhere=reader.flag(file, table, path, "everywhere"),
        text=MappingProxyType(texts),
        band=band,
        image=image,
        hours=hours,
        confidence=reader.choice(file, table, path, "confidence", CONFIDENCE),
        local=local,
        finder=reader.flag(file, table, path, "finder"),
    )


def _read_band(reader: Reader, file: TomlFile, table: dict[str, Any], path: KeyPath) -> AgeBand:
    """``age``: under18, adult, all, or the ages a service states ("5-25", "under19")."""
    text = reader.text(file, table, path, "age", True)
    band = parse_band(text)
    if band is None:
        message = 'must be under18, adult, all, a range like "5-25" or a limit like "under19"'
        reader.error(file, (*path, "age"), message)
        return AgeBand()
    return band


def _read_image(reader: Reader, file: TomlFile, table: dict[str, Any], path: KeyPath) -> Age | None:
    """``image``: the age at which the image was taken that the service is for, if any."""
    if "image" not in table:
        return None
    value = table["image"]
    if value not in (Age.UNDER18, Age.ADULT):
        reader.error(file, (*path, "image"), 'must be "under18" or "adult"')
        return None
    return Age(value)


def _read_resource_text(
    reader: Reader,
    file: TomlFile,
    table: Any,
    path: KeyPath,
    code: str,
    has_url: bool,
    has_hours: bool,
) -> ResourceText:
    sub = table.get(code) if isinstance(table, dict) else None
    if not isinstance(sub, dict):
        reader.error(file, path, f"text in locale {code!r} is missing")
        return ResourceText("", "")
    return ResourceText(
        name=reader.text(file, sub, path, "name", True),
        purpose=reader.text(file, sub, path, "purpose", True),
        button=reader.text(file, sub, path, "button", has_url),
        url=reader.url(file, sub, path, "url", False),
        text_line=reader.text(file, sub, path, "text_line", False),
        hours=reader.text(file, sub, path, "hours", has_hours),
    )


def _read_notes(reader: Reader, file: TomlFile, codes: tuple[str, ...]) -> tuple[Note, ...]:
    """``[[notes]]``: sentences about this region added to a topic, each with its source."""
    notes: list[Note] = []
    for path, table in reader.tables(file, "notes"):
        topic = reader.text(file, table, path, "topic", True)
        if topic and topic not in TOPICS:
            reader.error(file, (*path, "topic"), f"must be one of {list(TOPICS)}")
        texts = {code: reader.text(file, table, path, code, True) for code in codes}
        for code, text in texts.items():
            unknown = sorted(placeholders(text) - TOPIC_PLACEHOLDERS)
            if unknown:
                known = sorted(TOPIC_PLACEHOLDERS)
                reader.error(file, (*path, code), f"unknown {unknown}; known: {known}")
        notes.append(
            Note(
                topic,
                reader.choice(file, table, path, "place", NOTE_PLACES),
                reader.url(file, table, path, "source", True),
                reader.verified(file, table, path),
                MappingProxyType(texts),
            )
        )
    return tuple(notes)


def parse_band(text: str) -> AgeBand | None:
    """The ages an ``age`` value names: a group, a range ("5-25") or a limit ("under19")."""
    groups = {group.value: band for group, band in GROUP_BANDS.items()}
    if text in groups:
        return groups[text]
    if match := _BAND.match(text):
        low, high = int(match.group(1)), int(match.group(2))
        return AgeBand(low, high) if low <= high else None
    if match := _BELOW.match(text):
        limit = int(match.group(1))
        return AgeBand(None, limit - 1) if limit > 0 else None
    return None
