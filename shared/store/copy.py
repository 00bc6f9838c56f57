"""Copy a deployment's stored data from one store to another: an SQLite file to a PostgreSQL
database when a deployment grows to several processes, or back.

Rows are merged into the destination by primary key, in one transaction: a row missing there
is added, a row that differs is replaced, and nothing else is touched, so a second copy
changes nothing. What it reports is counts per table, never a community id.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from shared.config import is_postgres_url
from shared.store.postgres import PostgresStore
from shared.store.schema import TABLES, Row
from shared.store.sqlite import SqliteStore


class CopyError(Exception):
    """A copy that cannot start, with what the person should do."""


@dataclass(frozen=True, slots=True)
class TableCopy:
    """What a copy did to one table of the destination."""

    table: str
    new: int
    changed: int
    unchanged: int

    def __str__(self) -> str:
        rows = self.new + self.changed + self.unchanged
        return (
            f"{self.table}: {rows} rows: {self.new} new, {self.changed} changed,"
            f" {self.unchanged} already there"
        )


def check_targets(source: str, destination: str) -> None:
    """Refuse a source that is not there (a mistyped path must not become an empty copy) and a
    destination that is the source."""
    if not is_postgres_url(source) and not Path(source).is_file():
        raise CopyError(
            f"{source}: no such SQLite database (give its path, or a postgresql:// URL)"
        )
    same_file = not is_postgres_url(destination) and (
        Path(source).resolve() == Path(destination).resolve()
    )
    if source == destination or same_file:
        raise CopyError("SRC and DST are the same store")


async def open_target(target: str) -> SqliteStore | PostgresStore:
    """The store at ``target`` (an SQLite path or a PostgreSQL URL), migrated to the current
    schema (an SQLite file is created if need be)."""
    if is_postgres_url(target):
        return await PostgresStore.open(target)
    try:
        return await SqliteStore.open(target)
    except sqlite3.DatabaseError as error:
        raise CopyError(f"{target}: not a safety-bot SQLite database ({error})") from error


async def copy_store(source: str, destination: str) -> list[TableCopy]:
    """Merge every row of ``source`` into ``destination`` (see the module's docstring)."""
    check_targets(source, destination)
    origin = await open_target(source)
    try:
        target = await open_target(destination)
        try:
            rows = await origin.export()
            counts, changes = compare(rows, await target.export())
            if changes:
                await target.import_rows(changes)
        finally:
            await target.close()
    finally:
        await origin.close()
    return counts


def compare(
    rows: dict[str, list[Row]], existing: dict[str, list[Row]]
) -> tuple[list[TableCopy], dict[str, list[Row]]]:
    """Per table, the counts of a merge of ``rows`` into ``existing``, and the rows to write."""
    counts = []
    changes: dict[str, list[Row]] = {}
    for table, (_, keys) in TABLES.items():
        there = {row[:keys]: row for row in existing.get(table, [])}
        new = [row for row in rows[table] if row[:keys] not in there]
        changed = [row for row in rows[table] if there.get(row[:keys], row) != row]
        if new or changed:
            changes[table] = new + changed
        unchanged = len(rows[table]) - len(new) - len(changed)
        counts.append(TableCopy(table, len(new), len(changed), unchanged))
    return counts, changes
