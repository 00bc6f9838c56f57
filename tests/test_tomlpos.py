import tomllib

from shared.tomlpos import KeyLines

TEXT = '''# comment
[locale]
name = "English"

[ui]
sources = "Sources"
"quoted-key" = "x"
note = """
fake = "not a key"
"""

[topics.help-threatened]
title = "T"
steps = [
  "one",
]

[[resources]]
id = "a"
[resources.en]
name = "A"

[[resources]]
id = "b"
name.en = "B"
'''


def test_keys_map_to_their_lines() -> None:
    lines = KeyLines(TEXT)
    assert lines.line(("locale", "name")) == 3
    assert lines.line(("ui", "quoted-key")) == 7
    assert lines.line(("topics", "help-threatened", "title")) == 13
    assert lines.line(("topics", "help-threatened", "steps", 0)) == 14
    assert lines.line(("resources", 0, "en", "name")) == 21
    assert lines.line(("resources", 1, "id")) == 24
    assert lines.line(("resources", 1, "name", "en")) == 25


def test_text_inside_multiline_strings_is_not_a_key() -> None:
    assert KeyLines(TEXT).line(("ui", "fake")) == 5


def test_missing_keys_point_at_their_closest_parent() -> None:
    lines = KeyLines(TEXT)
    assert lines.line(("resources", 1, "fr", "name")) == 23
    assert lines.line(("nowhere",)) == 1


def test_lines_end_at_newlines_only() -> None:
    """TOML lines end at "\\n" (or "\\r\\n"); a NEL or a line separator inside a value
    (pasted text) does not start a line, so the keys after it keep their numbers."""
    text = '[ui]\r\nnote = "a\x85b\u2028c"\r\nsources = "S"\n'
    assert tomllib.loads(text)["ui"]["sources"] == "S"
    assert KeyLines(text).line(("ui", "sources")) == 3
