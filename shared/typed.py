"""One grammar for a command typed as text, used by every adapter that reads typed words.

``/report US adult``, ``/report region:us age:15``, ``report New Zealand``, ``/Setup fr GB``,
``/pin_advice help threatened``: a command word, then options by name (``name:value``) or by
position, in any order and any case, hyphens or underscores alike. Region names come from
the content (each region's names and ``aliases``), so "UK", "Aotearoa" or "Éire" need no code.

Words that fit no option are read carefully: a short unknown word ("Narnia") is taken as the
region the person meant, so the reply can correct it; a sentence after a command ("they are
blackmailing us") is not read as options, and two-letter codes and bare numbers count there
only when written as such (``US``). A line that is no command (free text) is reported as such.
Nothing here keeps what it read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from itertools import pairwise
from types import MappingProxyType
from typing import TYPE_CHECKING

from shared.commands import BY_NAME, TOPICS, Option, canonical_name
from shared.models import Age

if TYPE_CHECKING:
    from shared.content import Content

MAX_WORDS = 16
"""Words after a command that are read at all; the rest of a long message is ignored."""
MAX_PHRASE = 4
"""The longest value in words ("United States of America")."""
MAX_GUESS = 3
"""Unknown words are taken as a mistyped value only when there are this few of them."""
SENTENCE = 3
"""This many unknown words make the rest a sentence: codes and numbers count only as written."""
CODE_LENGTH = 2
"""Values this short are codes (``us``, ``fr``), which are also everyday words."""

ADULT_AGE = 18
OLDEST = 120
_AGE_NUMBER = re.compile(r"^(\d{1,3})(y|yo|yrs?|years?(old)?|ans?)?$", re.ASCII)
# Age words that are not content labels (those, "under 18" or "18 ans ou plus", come from
# each locale's age_under18 and age_adult).
_AGE_WORDS = {
    "under18": Age.UNDER18,
    "u18": Age.UNDER18,
    "minor": Age.UNDER18,
    "adult": Age.ADULT,
    "18+": Age.ADULT,
    "over18": Age.ADULT,
}
# Quotes and brackets around a word, and punctuation after it; written as escapes because
# curly quotes look like straight ones (phones type them).
_PUNCTUATION = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb()[]{}.,;!?"
_SEPARATORS = re.compile("[\\s\\-_.'\u2019]+")


def fold(text: str) -> str:
    """Text as compared: without accents, case, spaces, hyphens, underscores, dots or
    apostrophes (``Éire`` -> ``eire``, ``new_zealand`` and ``New Zealand`` -> ``newzealand``)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SEPARATORS.sub("", plain.casefold())


class Fit(IntEnum):
    """How surely words are a value of an option."""

    NONE = 0
    WEAK = 1
    """A two-letter code or a bare number: a value unless the words around it are a sentence."""
    STRONG = 2


@dataclass(frozen=True, slots=True)
class Typed:
    """A typed line, read.

    ``command`` is the command word as typed (``/Report@bot``), or "" when the line is no
    command (free text); ``name`` the command it names, if any; ``options`` each option's value
    as typed (``{"region": "New Zealand", "age": "15"}``), checked later by the core.
    """

    command: str
    name: str | None
    options: Mapping[str, str]

    @property
    def free_text(self) -> bool:
        """The person wrote words, not a command."""
        return not self.command


class Grammar:
    """Reads typed lines against the content's words: regions, languages, ages, topics."""

    def __init__(self, content: Content) -> None:
        self._content = content
        self._regions: dict[str, str] = {}
        for code, region in content.regions.items():
            for word in (code, *region.names.values(), *region.aliases):
                self._regions.setdefault(fold(word), code)
        self._languages = {fold(locale.name): code for code, locale in content.locales.items()}
        self._ages = dict(_AGE_WORDS)
        self._keys = {fold(option.value): option for option in Option}
        for code in content.locales:
            for age in (Age.UNDER18, Age.ADULT):
                self._ages.setdefault(fold(content.ui(code, f"age_{age}")), age)
            for option in Option:
                self._keys.setdefault(fold(content.ui(code, f"option_{option}")), option)

    # -- values ---------------------------------------------------------------------------

    def region(self, value: str | None) -> str | None:
        """The region code for a code, a name or an alias in any language; None if unknown."""
        return self._regions.get(fold(value)) if value else None

    def age(self, value: str | None) -> Age | None:
        """The age group for an age word or a number (``15`` -> under 18); None if unknown."""
        if not value:
            return None
        folded = fold(value)
        number = _AGE_NUMBER.match(folded)
        if number is None:
            return self._ages.get(folded)
        years = int(number.group(1))
        if years > OLDEST:  # "999" is a phone number, not an age
            return None
        return Age.UNDER18 if years < ADULT_AGE else Age.ADULT

    def language(self, value: str | None) -> str | None:
        """A locale code for a code, a tag (``fr-CA``) or a language's own name; None if unknown."""
        if not value:
            return None
        return self._content.resolve_locale(value.strip()) or self._languages.get(fold(value))

    @staticmethod
    def topic(value: str | None) -> str | None:
        """A topic name (``help_threatened``, ``/report``, ``help threatened``); None if unknown."""
        if not value:
            return None
        wanted = fold(value.strip().lstrip("/"))
        return next((topic for topic in TOPICS if fold(topic) == wanted), None)

    def value(self, option: Option, value: str) -> str | Age | None:
        """What ``value`` means for ``option`` (a code, an age group, a topic); None if
        unknown."""
        if option is Option.REGION:
            return self.region(value)
        if option is Option.AGE:
            return self.age(value)
        if option is Option.LANGUAGE:
            return self.language(value)
        return self.topic(value)

    def same(self, option: Option, first: str, second: str) -> bool:
        """Whether two typed values mean the same (``UK`` and ``GB``; ``15`` and ``under18``)."""
        meaning = self.value(option, first)
        if meaning is None:
            return fold(first) == fold(second)
        return meaning == self.value(option, second)

    def fit(self, option: Option, value: str) -> Fit:
        """How surely ``value`` is a value of ``option``."""
        folded = fold(value)
        if option is Option.AGE:
            number = _AGE_NUMBER.match(folded)
            if number is not None:  # a bare number is weak; "15 years old" is sure
                return Fit.STRONG if number.group(2) else Fit.WEAK
        if self.value(option, value) is None:
            return Fit.NONE
        return Fit.WEAK if len(folded) <= CODE_LENGTH else Fit.STRONG

    # -- lines ----------------------------------------------------------------------------

    def read(self, line: str) -> Typed | None:
        """Read a typed line; None when it is blank."""
        words = _words(line)
        if not words:
            return None
        first, rest = words[0].strip(_PUNCTUATION), words[1:]
        if first == "/" and rest:  # "/ report": a slash typed apart
            first, rest = "/" + rest[0], rest[1:]
        name = canonical_name(first)
        read = _Reading(self, name, rest[:MAX_WORDS]) if name else None
        if first.startswith("/"):
            return Typed(first, name, MappingProxyType(read.options if read else {}))
        # Without a slash, a line is a command only if every word after it is an option
        # ("report US 15", "help"); "help me, he has my photos" is free text.
        if read is not None and not read.unknown:
            return Typed(first, name, MappingProxyType(read.options))
        return Typed("", None, MappingProxyType({}))

    def key(self, word: str) -> Option | None:
        """The option a ``name:`` names, in any language the content has (``région:``)."""
        return self._keys.get(fold(word))


class _Reading:
    """The options of one command in the words after it: by name first, then by position."""

    def __init__(self, grammar: Grammar, name: str, words: list[str]) -> None:
        self.grammar = grammar
        self.wanted = BY_NAME[name].options
        self.options: dict[str, str] = {}
        self.unknown: list[int] = []
        loose = self._named(words)
        self._positional(loose)

    def _free(self) -> list[Option]:
        return [o for o in self.wanted if o.value not in self.options]

    def _named(self, words: list[str]) -> list[tuple[int, str]]:
        """Take ``name:value`` (or ``name=value``, ``name: value``); the rest stays loose."""
        loose: list[tuple[int, str]] = []
        index = 0
        while index < len(words):
            word = words[index]
            key, sep, value = _split_key(word)
            option = self.grammar.key(key) if sep else None
            if option is None:
                # An unknown name ("country:UK") still says what the person meant.
                loose.append((index, value.strip(_PUNCTUATION) if sep and key else word))
                index += 1
                continue
            following = []
            for after in words[index + 1 : index + 1 + MAX_PHRASE]:
                if _split_key(after)[1]:
                    break  # the next option by name
                following.append(after.strip(_PUNCTUATION))
            start = [value.strip(_PUNCTUATION)] if value.strip(_PUNCTUATION) else []
            phrase, used = self._longest(option, [*start, *following])
            if not phrase:  # an unknown value, kept so the reply can correct it
                words_given = start or following[:1]
                phrase, used = " ".join(words_given), len(words_given)
            consumed = max(0, used - len(start))
            if phrase and option in self.wanted and option.value not in self.options:
                self.options[option.value] = phrase
            index += 1 + consumed
        return [(i, w.strip(_PUNCTUATION)) for i, w in loose if w.strip(_PUNCTUATION)]

    def _longest(self, option: Option, words: list[str]) -> tuple[str, int]:
        """The longest run of ``words`` from the start that is a value of ``option``."""
        for size in range(min(MAX_PHRASE, len(words)), 0, -1):
            phrase = " ".join(words[:size])
            if self.grammar.fit(option, phrase) is not Fit.NONE:
                return phrase, size
        return "", 0

    def _positional(self, loose: list[tuple[int, str]]) -> None:
        """Values without names: sure ones first (names, phrases), then codes and numbers
        unless the words around them are a sentence, then a short unknown value to correct."""
        taken: set[int] = set()
        at = 0
        while at < len(loose):
            matched = self._strong_at(loose, at)
            if matched:
                taken.update(range(at, at + matched))
                at += matched
            else:
                at += 1
        weak: dict[int, Option] = {}
        for at, (_, word) in enumerate(loose):
            if at in taken:
                continue
            for option in self._free():
                if option not in weak.values() and self.grammar.fit(option, word) is Fit.WEAK:
                    weak[at] = option
                    break
        left = [at for at in range(len(loose)) if at not in taken and at not in weak]
        sentence = len(left) >= SENTENCE
        for at, option in weak.items():
            word = loose[at][1]
            if not sentence or word.isupper():
                self.options[option.value] = word
                taken.add(at)
        self.unknown = [loose[at][0] for at in range(len(loose)) if at not in taken]
        self._guess([at for at in range(len(loose)) if at not in taken], loose)

    def _strong_at(self, loose: list[tuple[int, str]], at: int) -> int:
        """How many loose words from ``at`` are a sure value of a free option (taking it)."""
        for size in range(min(MAX_PHRASE, len(loose) - at), 0, -1):
            run = loose[at : at + size]
            if any(b[0] != a[0] + 1 for a, b in pairwise(run)):
                continue  # not side by side as typed
            phrase = " ".join(word for _, word in run)
            for option in self._free():
                if self.grammar.fit(option, phrase) is Fit.STRONG:
                    self.options[option.value] = phrase
                    return size
        return 0

    def _guess(self, left: list[int], loose: list[tuple[int, str]]) -> None:
        """A few unknown words are the value the person meant for the first free option that
        is not an age (ages are numbers or known words), so the reply can correct it."""
        if not left or len(left) > MAX_GUESS:
            return
        targets = [o for o in self._free() if o is not Option.AGE]
        if not targets:
            return
        run = [left[0]]
        for at in left[1:]:
            if at != run[-1] + 1 or loose[at][0] != loose[run[-1]][0] + 1:
                break
            run.append(at)
        self.options[targets[0].value] = " ".join(loose[at][1] for at in run)


def _words(line: str) -> list[str]:
    """Words of a line; commas separate too (``UK, 15``)."""
    return line.replace(",", " ").split()


def _split_key(word: str) -> tuple[str, str, str]:
    """``region:US`` -> (``region``, ``:``, ``US``); also ``region=US``."""
    for sep in (":", "="):
        key, found, value = word.partition(sep)
        if found and key and not key.startswith(("http", "/")):
            return key, found, value
    return "", "", word
