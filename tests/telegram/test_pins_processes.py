"""Two ``safety-bot refresh-pins`` processes at once, on one PostgreSQL, against one fake
Telegram: each stale pinned post is edited by one of them, once (the claims of
:meth:`shared.store.interface.Store.claim_pin`)."""

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
from shared.pace import EDITS_IN_FLIGHT
from shared.store.postgres import PostgresStore
from tests.conftest import changed_content
from tests.telegram.conftest import launch
from tests.telegram.fake import FakeTelegram

POSTS = 60
"""Stale posts, one in each of as many groups."""
FIRST_GROUP = -1_006_000_000_000
COUNTS = re.compile(r"^telegram: (\d+) checked, (\d+) edited, 0 gone, 0 failed$", re.M)


async def test_two_refresh_pins_at_once_edit_each_post_once(
    content: Content, config: Config, fake: FakeTelegram, postgres_url: str, tmp_path: Path
) -> None:
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
    # Edits wait for their answers until both processes are editing: one process alone has
    # at most EDITS_IN_FLIGHT unanswered, so one more proves the other one is at work too.
    gate = fake.hold("editMessageText")
    processes = [await launch("refresh-pins", config=config_file) for _ in range(2)]
    finished = [asyncio.ensure_future(p.communicate()) for p in processes]
    await fake.wait_for(
        lambda: _attempts(fake) > EDITS_IN_FLIGHT, within=60, what="both processes editing"
    )
    gate.set()
    outputs = await asyncio.wait_for(asyncio.gather(*finished), 60)
    for process, (_out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err.decode()
    counts = [COUNTS.search(out.decode()) for out, _ in outputs]
    assert all(counts), outputs
    edited = [int(found[2]) for found in counts if found]
    assert [int(found[1]) for found in counts if found] == [POSTS, POSTS], "each looked at all"
    assert sum(edited) == POSTS, edited
    assert min(edited) > 0, f"both processes edited: {edited}"
    calls = Counter(
        (int(c.body["chat_id"]), int(c.body["message_id"]))
        for c in fake.calls
        if c.method == "editMessageText"
    )
    assert calls == dict.fromkeys(posts, 1), "each post edited exactly once in all"
    async with await PostgresStore.open(postgres_url) as store:
        assert "stale" not in {p.content_version for p in await store.pins()}


def _attempts(fake: FakeTelegram) -> int:
    return sum(c.method == "editMessageText" for c in fake.calls)
