"""Several processes, one Telegram bot: one burst of commands delivered through the fake
Telegram (playing the reverse proxy: each update to the next process's webhook port) to one
``safety-bot run`` process, then to two, in webhook mode on one PostgreSQL database.

Each person asks once; every command must be answered exactly once. The figure is the combined
commands per second from the first update injected to the last answer, and the ratio of two
processes to one. The fake runs in this process and takes a CPU of its own share: on a small
machine it, not the bot, may bound the figure (the ratio says how much a second process adds).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.command import Running
from tests.telegram.fake import FakeTelegram, user
from tests.telegram.processes import start_webhook

FIRST_PERSON = 320_000_000
SENDERS = 32
"""Updates the fake delivers at once, to all processes together."""
WARM_UP = 20
"""Commands before the burst, so that each process has its connections open."""
WITHIN = 300.0


async def burst(fake: FakeTelegram, people: range) -> float:
    """Each of ``people`` sends ``/help_threatened`` at once; seconds until every one is
    answered."""
    before = len(fake.sent("sendMessage"))
    start = time.perf_counter()
    for person in people:
        await fake.command("/help_threatened", sender=user(person))
    await fake.wait_for(
        lambda: len(fake.sent("sendMessage")) >= before + len(people),
        within=WITHIN,
        what=f"{len(people)} answers",
    )
    return time.perf_counter() - start


async def fleet_run(folder: Path, database_url: str, count: int, commands: int) -> dict[str, Any]:
    """``commands`` commands through ``count`` processes: commands/s, and how many were not
    answered exactly once."""
    fake = FakeTelegram()
    await fake.start()
    processes: list[Running] = []
    try:
        started = await asyncio.gather(
            *(
                start_webhook(folder / f"process{n}", fake.base_url, database_url)
                for n in range(count)
            )
        )
        processes = [process for process, _port in started]
        fake.deliver_to([port for _process, port in started], senders=SENDERS)
        people = range(FIRST_PERSON, FIRST_PERSON + WARM_UP + commands)
        fake.opened_private_chat.update(people)
        await burst(fake, people[:WARM_UP])
        seconds = await burst(fake, people[WARM_UP:])
        answers = Counter(body["chat_id"] for body in fake.sent("sendMessage"))
        wrong = sum(1 for person in people if answers[person] != 1)
        shares = [len(fake.delivered_to(port)) for _process, port in started]
    finally:
        for process in processes:
            process.stop()
        for process in processes:
            await process.finished()
        await fake.stop()
    return {
        "processes": count,
        "commands": commands,
        "commands_per_second": commands / seconds,
        "not_answered_once": wrong,
        "updates_per_process": shares,
    }


async def fleet_runs(
    folder: Path, new_database: Callable[[], str] | None, commands: int
) -> dict[str, Any]:
    """One process, then two, each on a fresh PostgreSQL database; skipped without one."""
    if new_database is None:
        return {}
    one = await fleet_run(folder / "one", new_database(), 1, commands)
    two = await fleet_run(folder / "two", new_database(), 2, commands)
    return {
        "one": one,
        "two": two,
        "ratio": two["commands_per_second"] / one["commands_per_second"],
    }
