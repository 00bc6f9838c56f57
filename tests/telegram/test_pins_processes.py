"""Two ``safety-bot refresh-pins`` processes at once, on one PostgreSQL, against one fake
Telegram with its flood limits on: they take turns (the lease of :mod:`shared.lease`), so the
bot edits at one process's pace, never over Telegram's limit for the whole bot (no 429), and
each stale pinned post is edited once, by the process whose turn came first."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from pathlib import Path

from shared.config import Config
from shared.content import Content
from shared.core import Core
from shared.models import Community
from shared.store.postgres import PostgresStore
from tests.conftest import changed_content
from tests.telegram.conftest import launch
from tests.telegram.fake import FakeTelegram

POSTS = 80
"""Stale posts, one in each of as many groups: 4 s of edits at the default pace, so the two
processes, started together, start refreshing while the other holds the lease."""
FIRST_GROUP = -1_006_000_000_000
COUNTS = re.compile(r"^telegram: (\d+) checked, (\d+) edited, 0 gone, 0 failed$", re.M)
WAITING = "another process holds the lease pins:telegram"


async def test_two_refresh_pins_at_once_take_turns_within_the_limits(
    content: Content, config: Config, fake: FakeTelegram, postgres_url: str, tmp_path: Path
) -> None:
    fake.limits = True  # 429 above 30 messages a second, or 20 a minute in a group
    posts = [(FIRST_GROUP - number, 7000 + number) for number in range(POSTS)]
    async with await PostgresStore.open(postgres_url) as store:
        core = Core(content, store, config)
        for chat_id, message_id in posts:
            fake.shown[(chat_id, message_id)] = ("old advice", None)
            community = Community("telegram", str(chat_id))
            await core.moderation.record_pin(
                community, str(chat_id), str(message_id), "report", "stale"
            )
    changed_content(tmp_path, "report")
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        f"[telegram]\nbase_url = {json.dumps(fake.base_url)}\n"
        f"[storage]\nurl = {json.dumps(postgres_url)}\n"
        f"[content]\npath = {json.dumps(str(tmp_path / 'messages'))}\n"
    )
    processes = [await launch("refresh-pins", config=config_file) for _ in range(2)]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in processes)), 60)
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
    counts = [COUNTS.search(out.decode()) for out, _err in outputs]
    assert all(counts), outputs
    assert [int(found[1]) for found in counts if found] == [POSTS, POSTS], "each looked at all"
    waited = [WAITING in err.decode() for _out, err in outputs]
    assert sorted(waited) == [False, True], "one process waited for the other's lease"
    edited = [int(found[2]) for found in counts if found]
    assert edited[waited.index(True)] == 0, f"then found every post current: {edited}"
    assert fake.limited == [], "no 429: the bot kept to Telegram's limits"
    calls = Counter(
        (int(c.body["chat_id"]), int(c.body["message_id"]))
        for c in fake.calls
        if c.method == "editMessageText"
    )
    assert calls == dict.fromkeys(posts, 1), "each post edited exactly once in all"
    async with await PostgresStore.open(postgres_url) as store:
        assert "stale" not in {p.content_version for p in await store.pins()}
