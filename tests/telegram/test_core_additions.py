"""The small core helpers the Telegram adapter relies on (added to shared/ with it)."""

from __future__ import annotations

import dataclasses

from shared.core import Core
from shared.models import Age, ReplyKind


def test_cooldown_reply(core: Core) -> None:
    limited = dataclasses.replace(core.config, cooldown_commands=1, cooldown_seconds=3600)
    slow = Core(core.content, core.store, limited)
    assert slow.dispatch.waiting("person", "en", private=False) is None
    waiting = slow.dispatch.waiting("person", "en", private=False)
    assert waiting is not None
    assert waiting.kind is ReplyKind.NOTICE
    assert slow.dispatch.waiting("someone else", "en", private=False) is None
    assert slow.dispatch.waiting(None, "en", private=False) is None


def test_advice_offers_the_choices_its_command_has(core: Core) -> None:
    report = core.advice("report", "fr", "CA", None)
    assert report.regions == tuple(core.content.regions)
    assert report.ages == (
        (Age.UNDER18, core.text("fr", "age_under18")),
        (Age.ADULT, core.text("fr", "age_adult")),
    )
    parents = core.advice("for-parents", "en", "CA", None)
    assert parents.regions
    assert parents.ages == ()
    about = core.advice("about", "en", "CA", None)
    assert (about.regions, about.ages) == ((), ())
