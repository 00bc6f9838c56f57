"""Moderation as one flow for every platform: pinning advice, unpinning it, listing it.

The checks every command goes through (cooldown, then refusal) run before this, in
:mod:`shared.dispatch`; here come the command's own: the topic, then the bot's missing rights.
Then each step is asked of the platform (:class:`shared.platform.Platform`) in turn, and what
a failed step leaves behind is undone: a post that cannot be pinned, or whose record cannot
be saved, is deleted, and the moderator is told which right is missing (or that nothing was
saved). Without a platform (the console, ``safety-bot ask``), pinning shows the post it would
pin.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from shared.advice import Advisor
from shared.commands import TOPICS, Option
from shared.metrics import Refusal
from shared.models import Community, Line, PinnedPost, Reply, ReplyKind, Request, Section, Settings
from shared.pins import Pins
from shared.platform import Platform, Refused
from shared.replies import Replies
from shared.settings import SettingsCache, done
from shared.typed import Grammar


class Moderation:
    """``/pin-advice``, ``/unpin-advice`` and ``/pinned`` in a community."""

    def __init__(
        self,
        settings: SettingsCache,
        advisor: Advisor,
        replies: Replies,
        grammar: Grammar,
        pins: Pins,
    ) -> None:
        self.guard = settings.guard
        self.advisor = advisor
        self.replies = replies
        self.grammar = grammar
        self.pins = pins

    def chosen_topic(
        self, options: Mapping[str, str], locale: str
    ) -> tuple[str | None, Reply | None]:
        """The topic a moderator named: (topic, None), (None, None) when none was named, or
        (None, a refusal listing the topics) when it is not one."""
        typed = options.get(Option.TOPIC)
        if not typed:
            return None, None
        topic = self.grammar.topic(typed)
        if topic is None:
            choices = self.replies.topic_choices()
            return None, self.replies.refuse_invalid(locale, "invalid_topic", typed, choices)
        return topic, None

    # -- /pin-advice ------------------------------------------------------------------------

    async def pin(
        self, request: Request, settings: Settings, locale: str, platform: Platform | None
    ) -> Reply:
        """Post the topic in the community, pin it silently and remember it; or say which
        right the bot lacks, having left nothing behind."""
        community = request.community
        assert community is not None  # refused before, outside a community
        topic, invalid = self.chosen_topic(request.options, locale)
        if invalid is not None:
            return invalid
        if topic is None:
            self.replies.metrics.refused(Refusal.INVALID_OPTION)
            return self.replies.refuse(
                locale, "topic_missing", choices=self.replies.topic_choices()
            )
        post = self.advisor.community_post(topic, settings)
        if platform is None:
            return post  # nowhere to post: the post it would pin
        channel = request.channel or community.id
        lacking = await platform.missing_rights(channel)
        if lacking:
            return self.replies.missing_rights(locale, lacking)
        await platform.working()
        try:
            messages = await platform.post(channel, post)
        except Refused as refused:
            return self.replies.missing_rights(locale, refused.rights)
        try:
            await platform.pin(channel, messages[0])
        except Refused as refused:
            await platform.delete(channel, messages)
            return self.replies.missing_rights(locale, refused.rights)
        except Exception:
            await platform.delete(channel, messages)  # no post left unpinned and unknown
            raise
        version = self.advisor.content_version(post)
        if not await self.record_pin(community, channel, messages[0], topic, version):
            # A pin the bot cannot find again could never be unpinned or updated by it.
            await platform.delete(channel, messages)
            return self.replies.save_failed(locale)
        return self.replies.notice(locale, "pin_done")

    async def record_pin(
        self, community: Community, channel_id: str, message_id: str, topic: str, version: str
    ) -> bool:
        """Remember a post the bot pinned; False (and logged) when the store failed."""
        store = self.guard.store
        if store is None:
            return True
        post = PinnedPost(community, channel_id, message_id, topic, version)
        return await self.guard.guarded("record a pinned post", done(store.add_pin(post)), False)

    # -- /unpin-advice ----------------------------------------------------------------------

    async def unpin(self, request: Request, locale: str, platform: Platform | None) -> Reply:
        """Forget and unpin the bot's posts of a topic (of every topic when none is named)."""
        community = request.community
        assert community is not None
        topic, invalid = self.chosen_topic(request.options, locale)
        if invalid is not None:
            return invalid
        if platform is not None:
            await platform.working()
        unpinned = False
        for each in [topic] if topic else TOPICS:
            # Forgotten first: a post unpinned but still recorded would be edited again.
            removed = await self.forget_pins(community, each)
            if removed is None:
                return self.replies.save_failed(locale)
            if platform is not None and removed:
                await platform.unpin(removed)
            unpinned = unpinned or bool(removed)
        return self.replies.notice(locale, "unpin_done" if unpinned else "unpin_none")

    async def forget_pins(self, community: Community, topic: str) -> list[PinnedPost] | None:
        """Forget a community's pinned posts of a topic; returns them so they can be unpinned,
        or None (and logged) when the store failed."""
        store = self.guard.store
        if store is None:
            return []
        removed = store.remove_pins(community, topic)
        return await self.guard.guarded("forget pinned posts", removed, None)

    # -- /pinned ----------------------------------------------------------------------------

    async def listing(self, community: Community, locale: str, platform: Platform | None) -> Reply:
        """``/pinned``: the community's posts, where they are, when updated, whether current."""
        store = self.guard.store
        try:
            posts = await store.pins(community) if store is not None else []
        except Exception:
            self.guard.store_failed("list pinned posts")
            return self.replies.error(locale)
        if not posts:
            return self.replies.notice(locale, "pinned_none")
        platform = platform or self.pins.platforms.get(community.platform)
        text = self.replies.text
        lines = []
        for post in posts:
            if await self.pins.is_current(post):
                state = "pinned_current"
            elif post.reported:
                state = "pinned_cannot_edit"
            else:
                state = "pinned_stale"
            place = platform.place(post) if platform is not None else None
            purpose = text(
                locale,
                "pinned_line",
                place=place or text(locale, "pinned_this_group"),
                updated=_date(post.updated_at),
                state=text(locale, state),
            )
            lines.append(Line(post.topic, purpose))
        return Reply(
            title=text(locale, "pinned_title"),
            summary=text(locale, "pinned_summary"),
            sections=(Section(text(locale, "pinned_heading"), tuple(lines), True),),
            kind=ReplyKind.NOTICE,
            locale=locale,
        )


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
