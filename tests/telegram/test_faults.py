"""Faults between the bot and Telegram, through python-telegram-bot against the fake: resets,
late answers and errors on sends, on deleting a group command and on ``getUpdates`` itself,
one at a time and then 1,000 commands with one response in ten faulted. Polling never stops
and every command is answered exactly once (single 429s and 5xx on sends are in
``test_errors.py``).

The fake never carries out a faulted send, so a retry cannot deliver twice. Real Telegram may
have sent a message whose answer came late or whose connection broke: the bot does not retry
a late answer (the person gets an apology instead, or nothing in a group), but it does retry
a broken connection, which is nearly always one Telegram never read (a stale keep-alive
connection), accepting a rare duplicate there. A faulted ``getUpdates`` loses a batch the fake
had ready: the bot confirms updates only through the next offset, so they come again.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest

from bots.telegram import render
from bots.telegram.limiter import NETWORK_RETRIES, RATE_LIMIT_RETRIES, RetryingRateLimiter
from bots.telegram.render import escape
from shared.core import Core
from shared.models import Age
from tests.telegram.conftest import running
from tests.telegram.fake import (
    BOT_ID,
    FAULTS,
    GROUP_ID,
    RESET,
    SLOW,
    USER_ID,
    Call,
    Failure,
    FakeTelegram,
    fault,
    group_chat,
    member,
    private_chat,
    user,
)

READ_TIMEOUT = 0.3
"""The bot's read timeout here: a slow answer costs this long."""
RETRY_AFTER = 0.01
"""A 429's ``retry_after`` here (python-telegram-bot adds 0.1 s on sends, 0.5 s on polls)."""
POLLING = {"poll_timeout": 0, "poll_interval": 0.01}
"""Short polls, so a late ``getUpdates`` answer times out after READ_TIMEOUT (a long poll's
timeout comes on top), and a failed poll is retried after 0.015 s (else 1 s)."""
Plan = Callable[[Call], Failure | None]


@pytest.fixture
async def bot(core: Core, fake: FakeTelegram) -> AsyncIterator[asyncio.Task[None]]:
    """The bot with short timeouts and no flood limit (each command comes from its own chat)."""
    limiter = RetryingRateLimiter(retry_delay=0.01, overall_max_rate=0, group_max_rate=0)
    async with running(
        core, fake, rate_limiter=limiter, read_timeout=READ_TIMEOUT, **POLLING
    ) as task:
        yield task


def lose_batches(kind: str, times: int) -> Plan:
    """A plan: the next ``times`` ``getUpdates`` answers that carry updates fail with ``kind``."""
    left = [times]

    def plan(call: Call) -> Failure | None:
        if call.method != "getUpdates" or not call.result or not left[0]:
            return None
        left[0] -= 1
        return fault("getUpdates", kind, retry_after=RETRY_AFTER)

    return plan


def answers(fake: FakeTelegram, chat_id: int) -> list[str]:
    """Texts of the messages delivered to ``chat_id``."""
    return [body["text"] for body in fake.sent("sendMessage", chat_id)]


def kinds(fake: FakeTelegram, method: str) -> list[str | None]:
    """Each call of ``method`` as its fault, None when answered."""
    return [c.fault for c in fake.calls if c.method == method]


def advice_text(core: Core, topic: str, region: str = "CA", age: Age | None = None) -> str:
    """The text of a topic's full answer in English (one message)."""
    [text] = render.messages(core.advice(topic, "en", region, age))
    return text


# -- one fault at a time ------------------------------------------------------------------


async def test_a_reset_send_is_retried_and_answered_once(
    core: Core, fake: FakeTelegram, bot: asyncio.Task[None]
) -> None:
    fake.drop("sendMessage", times=2)
    await fake.command("/report")
    await fake.wait_sent("sendMessage")
    await fake.settle()
    assert kinds(fake, "sendMessage") == [RESET, RESET, None]
    assert answers(fake, USER_ID) == [advice_text(core, "report")]
    assert not bot.done()


async def test_a_late_answer_is_not_retried_and_the_person_gets_one_apology(
    core: Core, fake: FakeTelegram, bot: asyncio.Task[None]
) -> None:
    fake.drop("sendMessage", slow=True)
    await fake.command("/report")
    await fake.wait_sent("sendMessage")
    await fake.command("/about")
    await fake.wait_sent("sendMessage", 2)
    await fake.settle()
    # Telegram may have sent the answer it was late with: sending it again could say it twice.
    assert kinds(fake, "sendMessage") == [SLOW, None, None]
    assert answers(fake, USER_ID) == [core.text("en", "error_apology"), advice_text(core, "about")]
    assert not bot.done()


@pytest.mark.parametrize("kind", [SLOW, "500"])
async def test_a_failed_delete_still_points_the_group_to_the_private_chat(
    core: Core, fake: FakeTelegram, bot: asyncio.Task[None], kind: str
) -> None:
    # Late (not retried), or failing past every retry: the command may stay, the pointer comes.
    times = 1 if kind == SLOW else NETWORK_RETRIES + 1
    fake.failures += [fault("deleteMessage", kind)] * times
    await fake.command("/report", chat=group_chat())
    await fake.wait_sent("sendMessage")
    await fake.settle()
    assert answers(fake, GROUP_ID) == [escape(core.text("en", "private_pointer"))]
    assert kinds(fake, "deleteMessage") == [kind] * times
    assert not bot.done()


@pytest.mark.parametrize("kind", FAULTS)
async def test_a_lost_poll_loses_no_update_and_repeats_none(
    core: Core, fake: FakeTelegram, bot: asyncio.Task[None], kind: str
) -> None:
    fake.plan = lose_batches(kind, 2)
    await fake.command("/report")
    update_id = fake.last_update_id
    await fake.wait_sent("sendMessage")
    await fake.command("/about")
    await fake.wait_sent("sendMessage", 2)
    await fake.settle()
    lost = fake.faults("getUpdates")
    assert [c.fault for c in lost] == [kind, kind]
    # Both lost answers held the command; it was handled once, from the next poll.
    assert all(c.result[0]["update_id"] == update_id for c in lost)
    assert answers(fake, USER_ID) == [advice_text(core, "report"), advice_text(core, "about")]
    assert not bot.done()


# -- 1,000 commands, one answer in ten faulted ----------------------------------------------

COMMANDS = 1000
WAVE = 10
"""Commands injected together; the next wave once the bot fetched this one (many polls)."""
GROUP_EVERY = 10
"""Every tenth command is typed in a group (a pointer post), the others in private chats."""
FAULT_RATE = 0.1
SEED = 4
FIRST_USER = 400_000_001
FIRST_GROUP = -1004000000001
RETRY_BUDGET = min(NETWORK_RETRIES, RATE_LIMIT_RETRIES)
"""Faults in a row the bot rides out by retrying (5xx, resets, 429s alike)."""


class FaultMix:
    """A seeded plan failing about one response in ten, of every kind in :data:`FAULTS`.

    A chat's sends meet the faults :meth:`for_chat` gives, in order, then none: the seed
    alone decides them, whatever order the bot's concurrent calls arrive in. ``getUpdates``
    answers carrying updates are lost at the same rate, their kinds dealt from a shuffled
    deck so that a few faults show every kind.
    """

    def __init__(self, seed: int, rate: float) -> None:
        self.seed = seed
        self.rate = rate
        self.polls = random.Random(f"{seed}:getUpdates")
        self.deck: list[str] = []
        self.sends: Counter[int] = Counter()

    def for_chat(self, chat_id: int) -> list[str]:
        """The faults the sends to ``chat_id`` meet: at most RETRY_BUDGET, ending at a slow
        one (not retried)."""
        rng = random.Random(f"{self.seed}:{chat_id}")
        faults: list[str] = []
        while len(faults) < RETRY_BUDGET and SLOW not in faults and rng.random() < self.rate:
            faults.append(rng.choice(FAULTS))
        return faults

    def __call__(self, call: Call) -> Failure | None:
        if call.method == "sendMessage":
            chat_id = int(call.body["chat_id"])
            attempt = self.sends[chat_id]
            self.sends[chat_id] += 1
            planned = self.for_chat(chat_id)
            if attempt < len(planned):
                return fault("sendMessage", planned[attempt], retry_after=RETRY_AFTER)
        elif call.method == "getUpdates" and call.result and self.polls.random() < self.rate:
            if not self.deck:
                self.deck = self.polls.sample(FAULTS, len(FAULTS))
            return fault("getUpdates", self.deck.pop(), retry_after=RETRY_AFTER)
        return None


MIX = [
    ("/help-threatened", "help-threatened", "CA", None),
    ("/help_threatened under18", "help-threatened", "CA", Age.UNDER18),
    ("/report US adult", "report", "US", Age.ADULT),
    ("/report", "report", "CA", None),
    ("/privacy-tips", "privacy-tips", "CA", None),
    ("/resources region:GB", "resources", "GB", None),
    ("/image_shared AU", "image-shared", "AU", None),
    ("/help", None, "CA", None),
]
"""Private-chat commands: typed text, then the topic (None: the command list), region, age."""


async def test_a_thousand_commands_through_one_fault_in_ten_are_each_answered_once(
    core: Core, fake: FakeTelegram, bot: asyncio.Task[None]
) -> None:
    mix = FaultMix(SEED, FAULT_RATE)
    fake.plan = mix
    apology = core.text("en", "error_apology")
    pointer = escape(core.text("en", "private_pointer"))
    expected: dict[int, list[str]] = {}
    first_update = fake.last_update_id + 1
    started = asyncio.get_running_loop().time()
    for index in range(COMMANDS):
        person = FIRST_USER + index
        if index % GROUP_EVERY == GROUP_EVERY - 1:
            chat = group_chat(FIRST_GROUP - index)
            fake.members[(chat["id"], BOT_ID)] = member(BOT_ID, "administrator")
            typed, answer, failed = "/report", pointer, []  # a group never hears of a failure
        else:
            chat = private_chat(person)
            fake.opened_private_chat.add(person)
            typed, topic, region, age = MIX[index % len(MIX)]
            answer = advice_text(core, topic, region, age) if topic else help_text(core)
            failed = [apology]
        await fake.command(typed, chat=chat, sender=user(person))
        late = mix.for_chat(chat["id"])[-1:] == [SLOW]
        expected[chat["id"]] = failed if late else [answer]
        if index % WAVE == WAVE - 1:
            await fake.wait_for(
                lambda: fake.handed_out >= fake.last_update_id, what="the wave fetched"
            )
    total = sum(len(texts) for texts in expected.values())
    await fake.wait_for(lambda: delivered(fake) >= total, within=10, what=f"{total} answers")
    await fake.settle()
    elapsed = asyncio.get_running_loop().time() - started

    # Each command answered exactly once, in its own chat: none twice, none missing.
    assert {chat: answers(fake, chat) for chat in expected} == expected
    assert delivered(fake) == total
    # Each chat's sends met exactly the planned faults: retried until through, never after
    # a late answer.
    sends = [c for c in fake.calls if c.method == "sendMessage"]
    for chat in expected:
        met = [c.fault for c in sends if c.body["chat_id"] == chat and c.fault]
        assert met == mix.for_chat(chat), chat
    # Every update was handed to the bot once by a poll that got through: a lost poll's
    # batch came again, and no offset skipped or repeated one.
    polls = [c for c in fake.calls if c.method == "getUpdates"]
    handed = [u["update_id"] for c in polls if c.status == 200 for u in c.result]
    assert handed == list(range(first_update, fake.last_update_id + 1))
    assert not bot.done()
    send_faults = Counter(c.fault for c in sends if c.fault)
    poll_faults = Counter(c.fault for c in polls if c.fault)
    assert set(send_faults) == set(poll_faults) == set(FAULTS)  # every kind, on both
    carrying = [c for c in polls if c.result]
    faulted = sum(send_faults.values()) + sum(poll_faults.values())
    print(
        f"\n{COMMANDS} commands ({COMMANDS // GROUP_EVERY} in groups) in {elapsed:.1f} s"
        f"\nsendMessage: {len(sends)} calls, faults {dict(sorted(send_faults.items()))}"
        f"\ngetUpdates: {len(polls)} calls ({len(carrying)} carrying updates),"
        f" faults {dict(sorted(poll_faults.items()))}"
        f"\nfaulted: {faulted} of {len(sends) + len(carrying)} responses carrying a send or"
        f" updates ({faulted / (len(sends) + len(carrying)):.1%})"
        f"\nanswers delivered: {total} ({sum(t == [apology] for t in expected.values())}"
        f" apologies after a late answer, {sum(t == [] for t in expected.values())} groups"
        f" silent); sends retried: {sum(n for k, n in send_faults.items() if k != SLOW)},"
        f" lost polls repeated: {sum(poll_faults.values())}"
    )


def help_text(core: Core) -> str:
    """The text of the command list in English (one message)."""
    [text] = render.messages(core.help("en"))
    return text


def delivered(fake: FakeTelegram) -> int:
    """How many messages the bot got through."""
    return sum(1 for c in fake.calls if c.method == "sendMessage" and c.status == 200)
