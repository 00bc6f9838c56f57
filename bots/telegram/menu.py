"""The command menu Telegram shows (in every language of the content, the moderators'
commands to group administrators only) and the admin rights it suggests for the bot; sent only
when they changed."""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeDefault,
    ChatAdministratorRights,
)
from telegram.error import TelegramError
from telegram.ext import ExtBot

from bots.telegram import limits
from bots.telegram.render import telegram_name
from shared.commands import COMMANDS, Audience
from shared.core import Core

log = logging.getLogger(__name__)

COMMANDS_META_KEY = "telegram.commands"
"""Store meta key holding ``<bot id>:<hash>`` of the last command menu sent to Telegram."""
ADMIN_RIGHTS = ChatAdministratorRights(
    is_anonymous=False,
    can_manage_chat=False,
    can_delete_messages=True,
    can_manage_video_chats=False,
    can_restrict_members=False,
    can_promote_members=False,
    can_change_info=False,
    can_invite_users=False,
    can_post_stories=False,
    can_edit_stories=False,
    can_delete_stories=False,
    can_pin_messages=True,
)
"""The admin rights Telegram suggests when a group makes the bot an administrator: only the
two it uses, deleting commands (so the group does not see who asked) and pinning advice."""


def command_lists(core: Core) -> list[dict[str, Any]]:
    """Every ``setMyCommands`` call, as data: people's commands for everyone, plus the
    moderators' for group administrators, in the default language (no ``language_code``)
    and in each language of the content."""
    lists = []
    scopes = (
        (BotCommandScope.DEFAULT, (Audience.EVERYONE,)),
        (BotCommandScope.ALL_CHAT_ADMINISTRATORS, (Audience.EVERYONE, Audience.MODERATORS)),
    )
    languages: list[tuple[str, str]] = [("", core.default_locale)]
    languages += [(code, code) for code in core.content.locales]
    for scope, audiences in scopes:
        for language_code, locale in languages:
            commands = [
                {
                    "command": telegram_name(c.name),
                    "description": core.command_description(locale, c.name)[
                        : limits.COMMAND_DESCRIPTION
                    ],
                }
                for c in COMMANDS
                if c.audience in audiences
            ]
            lists.append({"scope": scope, "language_code": language_code, "commands": commands})
    return lists


def commands_hash(lists: list[dict[str, Any]]) -> str:
    """A short hash of the command menu and the suggested admin rights, to send them only
    when they changed."""
    menu = {"commands": lists, "rights": ADMIN_RIGHTS.to_dict()}
    text = json.dumps(menu, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def sync_commands(core: Core, bot: ExtBot[Any], *, force: bool = False) -> bool:
    """Send the command menu and the suggested admin rights when they changed since the last
    time (or ``force``).

    Returns whether they were sent. Failures are logged, never raised: the bot works without.
    """
    lists = command_lists(core)
    stamp = f"{bot.id}:{commands_hash(lists)}"
    if not force and await core.meta(COMMANDS_META_KEY) == stamp:
        return False
    try:
        for entry in lists:
            scope = (
                BotCommandScopeAllChatAdministrators()
                if entry["scope"] == BotCommandScope.ALL_CHAT_ADMINISTRATORS
                else BotCommandScopeDefault()
            )
            await bot.set_my_commands(
                [BotCommand(c["command"], c["description"]) for c in entry["commands"]],
                scope=scope,
                language_code=entry["language_code"] or None,
            )
        await bot.set_my_default_administrator_rights(rights=ADMIN_RIGHTS, for_channels=False)
    except (TelegramError, OSError) as error:
        log.warning("could not send the command menu: %s", type(error).__name__)
        return False
    await core.set_meta(COMMANDS_META_KEY, stamp)
    log.info("sent the command menu to Telegram")
    return True
