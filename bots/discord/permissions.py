"""The Discord permissions the bot asks for, and who may use the moderator commands.

The bot needs little: interaction replies need no permission at all. Only posting advice in
a channel (``/pin-advice``) and the welcome message need any.
"""

from __future__ import annotations

import base64
import binascii

import discord

# What the bot needs in a channel to post and pin advice there, in the order a moderator
# would check them. Each name is a discord.Permissions attribute and a UI key suffix
# (``permission_<name>``) for its name in the person's language.
POST_PERMISSIONS: tuple[str, ...] = ("view_channel", "send_messages", "embed_links", "pin_messages")
# The welcome goes out as plain text, so it needs only these.
WELCOME_PERMISSIONS: tuple[str, ...] = ("view_channel", "send_messages")

BOT_PERMISSIONS = discord.Permissions(**dict.fromkeys(POST_PERMISSIONS, True))
"""Exactly the bits the invite URL asks for."""

PURPOSE: dict[str, str] = {
    "view_channel": "see the channel a moderator asks it to post advice in",
    "send_messages": "post the advice a moderator asks for, and the one-time welcome",
    "embed_links": "show that advice as an embed with its sources",
    "pin_messages": "pin that advice (and unpin it on /unpin-advice)",
}
"""What each permission is for, for the operator (README, ``invite-url``)."""

SCOPES = ("bot", "applications.commands")

# Moderator commands: the Discord permission a person needs to use each one. It is set as
# the command's default_member_permissions (which only hides the command) and checked again
# at run time, where it counts.
MODERATOR_PERMISSION: dict[str, str] = {
    "setup": "manage_guild",
    "pin-advice": "pin_messages",
    "unpin-advice": "pin_messages",
    "pinned": "pin_messages",
}


# Discord denies these implicitly when the one named is denied (no View Channel: nothing in
# the channel; no Send Messages: no Embed Links). Naming only the cause tells a moderator
# exactly which permission to grant.
_IMPLIED_BY: dict[str, tuple[str, ...]] = {
    "send_messages": ("view_channel",),
    "embed_links": ("view_channel", "send_messages"),
    "pin_messages": ("view_channel",),
}


def missing(granted: discord.Permissions, needed: tuple[str, ...] = POST_PERMISSIONS) -> list[str]:
    """The permissions of ``needed`` that ``granted`` lacks, in order, without those that are
    only missing because another one is."""
    lacking = [name for name in needed if not getattr(granted, name)]
    return [n for n in lacking if not any(cause in lacking for cause in _IMPLIED_BY.get(n, ()))]


def has(granted: discord.Permissions, name: str) -> bool:
    """Whether ``granted`` includes the permission ``name`` (administrators have them all)."""
    return bool(granted.administrator or getattr(granted, name))


def invite_url(client_id: int) -> str:
    """The OAuth2 URL a server admin opens to add the bot, with exactly the bits it needs."""
    return discord.utils.oauth_url(client_id, permissions=BOT_PERMISSIONS, scopes=SCOPES)


def client_id_from_token(token: str) -> int | None:
    """The application id a bot token starts with (base64 of the id), without any request.

    Returns None when the token does not have that shape.
    """
    first = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=False).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() else None


def bot_permissions(client: discord.Client, guild_id: int, channel_id: int) -> discord.Permissions:
    """The bot's permissions in a channel, from the guild cache (none if unknown)."""
    guild = client.get_guild(guild_id)
    channel = guild.get_channel(channel_id) if guild is not None else None
    if guild is None or channel is None or guild.me is None:
        return discord.Permissions.none()
    return channel.permissions_for(guild.me)
