"""What a config section is made of: keys with their rules, and a platform's section as its
adapter declares it; and ``[pins] edits_per_second``, which each platform's limits bound."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from shared.tomlpos import KeyPath


def _anything(value: Any) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a config section: the type of its value (with ``items``, a list of values
    of that type), and a rule the value must keep (with what to say when it does not). A key
    ``renamed_to`` another is refused, saying so."""

    kind: type
    rule: Callable[[Any], bool] = _anything
    message: str = ""
    items: type | None = None
    renamed_to: str = ""

    def read(self, value: Any) -> tuple[Any, str]:
        """The value as the config holds it (an int where a float is wanted becomes one), and
        why it is wrong ("" when it is fine)."""
        if self.renamed_to:
            return value, f"was renamed to {self.renamed_to}: write {self.renamed_to} instead"
        if self.kind is float and _is_number(value):
            value = float(value)
        if not isinstance(value, self.kind) or isinstance(value, bool):
            return value, f"must be {self.kind.__name__}, not {type(value).__name__}"
        if self.items is not None and not _all_of(value, self.items):
            return value, f"must be a list of {self.items.__name__}"
        return value, "" if self.rule(value) else self.message


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule across the keys of one section: ``check`` gets the section's valid values and
    says what is wrong ("" when nothing is); the problem is shown at ``key``."""

    key: str
    check: Callable[[Mapping[str, Any]], str]


class PlatformConfig(Protocol):
    """A platform's section, as its adapter reads it: a token, and the adapter's own keys."""

    @property
    def token(self) -> str:
        """The bot's token on the platform ("" when unset)."""
        ...


@runtime_checkable
class WithSecrets(Protocol):
    """A platform's section holding secrets besides its token (a webhook's secret)."""

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value of the section no output may show, the token and derived ones too."""
        ...


@dataclass(frozen=True, slots=True)
class PlatformSection:
    """A platform's ``[name]`` section, declared by its adapter: its keys and their rules, the
    variable its token comes from (it wins over the file's ``token``), the type that holds it,
    and the platform's limits that bound ``[pins] edits_per_second``."""

    name: str
    token_variable: str
    keys: Mapping[str, Key]
    """Every key but ``token``; each is a keyword of ``holder``."""
    holder: Callable[..., PlatformConfig]
    """Builds the section from ``token`` and the keys given (the others keep their defaults)."""
    requests_per_second: float
    """Requests a second the platform allows a whole bot."""
    max_edits_per_second: float
    """The most ``[pins] edits_per_second`` takes: some of the platform's rate stays for
    answers to people, the bot's other calls and a busy machine's timing."""
    default_edits_per_second: float
    rules: Sequence[Rule] = ()
    """Rules across its keys, checked once each key is valid on its own."""
    variables: Mapping[str, str] = field(default_factory=dict)
    """Keys an environment variable may give instead, by key (the variable wins over the
    file, as for the token): a secret need never be written on disk."""


def edit_rates(
    value: Any,
    path: KeyPath,
    platforms: Sequence[PlatformSection],
    bad: Callable[[KeyPath, str], None],
) -> dict[str, float] | None:
    """``[pins] edits_per_second`` at ``path``: one number for every platform, or a table by
    platform (``{ telegram = 20, discord = 40 }``; a platform left out keeps its default).
    None (and ``bad`` called) when it is wrong."""
    known = {platform.name: platform for platform in platforms}
    hint = ""
    if isinstance(value, dict):
        given: dict[str, Any] = value
        where: dict[str, KeyPath] = {name: (*path, name) for name in value}
    elif _is_number(value):
        given = dict.fromkeys(known, value)
        where = dict.fromkeys(known, path)
        hint = "; one number sets every platform, a table each: { telegram = 20, discord = 45 }"
    else:
        bad(path, "must be a number, or a table like { telegram = 20, discord = 40 }")
        return None
    rates = default_edit_rates(platforms)
    wrong = False
    for name, rate in given.items():
        platform = known.get(name)
        if platform is None:
            bad(where[name], f"unknown platform; known: {sorted(known)}")
        elif not _is_number(rate):
            bad(where[name], f"must be a number, not {type(rate).__name__}")
        elif not 0 < rate <= platform.max_edits_per_second:
            bad(
                where[name],
                f"must be more than 0 and at most {platform.max_edits_per_second:g} for {name}:"
                f" it allows {platform.requests_per_second:g} a second for the whole bot, and"
                " answers to people need the rest (the default is"
                f" {platform.default_edits_per_second:g}){hint}",
            )
        else:
            rates[name] = float(rate)
            continue
        wrong = True
    return None if wrong else rates


def default_edit_rates(platforms: Sequence[PlatformSection]) -> dict[str, float]:
    """Each platform's default ``[pins] edits_per_second``."""
    return {platform.name: platform.default_edits_per_second for platform in platforms}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _all_of(values: Any, kind: type) -> bool:
    return all(isinstance(value, kind) and not isinstance(value, bool) for value in values)
