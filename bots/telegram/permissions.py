"""Telegram's chat member statuses and admin rights: who is a moderator of a group, and
which rights the bot lacks there.

Rights are named as the core names them (``permission_<right>`` in the content).
"""

from __future__ import annotations

from telegram import ChatMember, ChatMemberAdministrator, ChatMemberRestricted, Message
from telegram.constants import ChatMemberStatus

MODERATOR_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
MODERATOR_RIGHTS: dict[str, str] = {
    "pin-advice": "can_pin_messages",
    "unpin-advice": "can_pin_messages",
}
"""The admin right a moderator command needs besides being an administrator (as on Discord,
and as Telegram asks of an admin who pins by hand); the group's creator has every right."""
SEND_RIGHT = "send_messages"
PIN_RIGHT = "pin_messages"


def is_member(member: ChatMember) -> bool:
    """Whether a chat member status means "in the chat"."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in (*MODERATOR_STATUSES, ChatMemberStatus.MEMBER)


def missing_rights(member: ChatMember) -> list[str]:
    """The rights the bot lacks to post and pin advice in a group, given its own membership.

    Pinning in a group needs an administrator with the "pin messages" right.
    """
    missing = []
    if not is_member(member) or (
        isinstance(member, ChatMemberRestricted) and not member.can_send_messages
    ):
        missing.append(SEND_RIGHT)
    can_pin = member.status == ChatMemberStatus.OWNER or (
        isinstance(member, ChatMemberAdministrator) and member.can_pin_messages is not False
    )
    if not can_pin:
        missing.append(PIN_RIGHT)
    return missing


async def is_moderator(message: Message, command: str) -> bool:
    """Whether the sender of a group message may use a moderator ``command``: the group's
    creator, or an administrator with the right the command needs, asked of Telegram every
    time."""
    if message.sender_chat is not None:
        # The group itself is an anonymous administrator; a channel (or any other chat)
        # posting in the group is nobody whose rights can be checked.
        return message.sender_chat.id == message.chat.id
    if message.from_user is None:
        return False
    member = await message.chat.get_member(message.from_user.id)
    if member.status == ChatMemberStatus.OWNER:
        return True
    right = MODERATOR_RIGHTS.get(command)
    return isinstance(member, ChatMemberAdministrator) and (
        right is None or getattr(member, right) is True
    )
