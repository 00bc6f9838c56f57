"""The moderator commands, read from the command table, with option values that a moderator
would get a real answer for: permission tests cover every moderator command, including ones
added later."""

from __future__ import annotations

from shared.commands import COMMANDS, Audience, Command, Option

MODERATOR_COMMANDS: tuple[Command, ...] = tuple(
    c for c in COMMANDS if c.audience is Audience.MODERATORS
)
VALUES: dict[Option, str] = {
    Option.REGION: "GB",
    Option.LANGUAGE: "fr",
    Option.TOPIC: "report",
    Option.AGE: "adult",
}
"""One valid value per option; an option missing here fails the tests that need it."""


def example_options(command: Command) -> dict[str, str]:
    """A valid value for every option of ``command`` (KeyError for an option not in VALUES)."""
    return {option.value: VALUES[option] for option in command.options}
