"""The UI texts the code asks for by key, each with the values it fills in.

Every locale must define each (the root locale directly), with exactly these placeholders: a
placeholder the code does not fill would be shown as ``{name}`` or break the reply, and a value
the text does not show is a fact the reader misses. ``safety-bot check`` says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

UI_TEXTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "sources": frozenset(),
        "age_under18": frozenset(),
        "age_adult": frozenset(),
        "heading_emergency": frozenset(),
        "heading_report": frozenset(),
        "heading_remove": frozenset(),
        "heading_support": frozenset(),
        "emergency_unknown": frozenset(),
        "emergency_number": frozenset({"number"}),
        "help_title": frozenset(),
        "help_summary": frozenset(),
        "help_moderators": frozenset(),
        "help_everyone": frozenset(),
        "cooldown": frozenset({"seconds"}),
        "unknown_command": frozenset({"command"}),
        "refused_moderator": frozenset({"command"}),
        "refused_private": frozenset({"command"}),
        "invalid_region": frozenset({"value", "choices"}),
        "unknown_region": frozenset({"value", "choices"}),
        "invalid_age": frozenset({"value"}),
        "invalid_topic": frozenset({"value", "choices"}),
        "topic_missing": frozenset({"choices"}),
        "invalid_language": frozenset({"value", "choices"}),
        "setup_current": frozenset({"region", "language"}),
        "setup_saved": frozenset({"region", "language"}),
        "save_failed": frozenset(),
        "pin_done": frozenset(),
        "pin_missing_right": frozenset({"right"}),
        "unpin_done": frozenset(),
        "unpin_none": frozenset(),
        "pin_cannot_edit": frozenset(),
        "pinned_title": frozenset(),
        "pinned_summary": frozenset(),
        "pinned_heading": frozenset(),
        "pinned_line": frozenset({"place", "updated", "state"}),
        "pinned_this_group": frozenset(),
        "pinned_current": frozenset(),
        "pinned_stale": frozenset(),
        "pinned_cannot_edit": frozenset(),
        "pinned_none": frozenset(),
        "welcome": frozenset(),
        "age_below": frozenset({"age"}),
        "age_from": frozenset({"age"}),
        "age_range": frozenset({"low", "high"}),
        "image_under18": frozenset(),
        "image_adult": frozenset(),
        "hours_24_7": frozenset(),
        "hours_online": frozenset(),
        "hours_or_online": frozenset(),
        "step_under18": frozenset({"text"}),
        "step_adult": frozenset({"text"}),
        "private_pointer": frozenset(),
        "private_button": frozenset(),
        "error_apology": frozenset(),
        "option_region": frozenset(),
        "option_age": frozenset(),
        "option_topic": frozenset(),
        "option_language": frozenset(),
        # Discord: option descriptions, the channel option, and permission names.
        "option_region_help": frozenset(),
        "option_age_help": frozenset(),
        "option_topic_help": frozenset(),
        "option_language_help": frozenset(),
        "option_channel": frozenset(),
        "option_channel_help": frozenset(),
        "permission_view_channel": frozenset(),
        "permission_send_messages": frozenset(),
        "permission_embed_links": frozenset(),
        "permission_pin_messages": frozenset(),
        "free_text_title": frozenset(),
        "free_text_summary": frozenset(),
        "free_text_heading": frozenset(),
        "free_text_closing": frozenset(),
        "language_current": frozenset({"language", "choices"}),
        "language_set": frozenset({"language"}),
        "console_hint": frozenset(),
        "console_settings_memory": frozenset(),
        "console_settings_saved": frozenset({"path"}),
    }
)
"""Each UI key, and the names of the values the code gives it."""
UI_KEYS = tuple(UI_TEXTS)
