"""What a platform's formatted text looks like, as HTML that trusts nothing in it.

Discord's markdown and Telegram's HTML parse mode are turned into HTML by rebuilding them:
every character of text is escaped here, and the only tags in the result are the few this
module writes itself. Content that contains ``<script>`` or ``**`` shows as those characters.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markupsafe import Markup, escape

# Discord: a backslash before punctuation shows the character itself; ``**`` toggles bold.
_DISCORD_TOKEN = re.compile(r"\\([^0-9A-Za-z\s])|\*\*")

# Telegram tags shown with their meaning, and the HTML written for each; any other tag the
# bot's limited HTML allows shows as plain text.
_TELEGRAM_TAGS = {
    "b": "strong",
    "strong": "strong",
    "i": "em",
    "em": "em",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "code",
    "blockquote": "blockquote",
}


def discord_markdown(text: str) -> Markup:
    """A Discord embed description as it reads: escapes resolved, ``**bold**`` bold."""
    parts: list[str] = []
    bold = False
    at = 0
    for match in _DISCORD_TOKEN.finditer(text):
        parts.append(escape(text[at : match.start()]))
        if match.group(1) is not None:
            parts.append(escape(match.group(1)))
        else:
            parts.append("</strong>" if bold else "<strong>")
            bold = not bold
        at = match.end()
    parts.append(escape(text[at:]))
    if bold:
        parts.append("</strong>")
    return Markup("".join(parts))


class _TelegramHtml(HTMLParser):
    """Re-writes Telegram parse-mode HTML: text escaped again, known tags mapped, links kept
    only when they are https."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        mapped = _TELEGRAM_TAGS.get(tag)
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith("https://"):
                self.out.append(f'<a href="{escape(href)}">')
                self.open.append("a")
                return
            mapped = None
        if mapped is None:
            self.out.append(escape(self.get_starttag_text() or ""))
            return
        self.out.append(f"<{mapped}>")
        self.open.append(mapped)

    def handle_endtag(self, tag: str) -> None:
        mapped = "a" if tag == "a" else _TELEGRAM_TAGS.get(tag)
        if mapped is not None and mapped in self.open:
            # Close what is open down to this tag, so the result always nests correctly.
            while self.open:
                name = self.open.pop()
                self.out.append(f"</{name}>")
                if name == mapped:
                    return
        self.out.append(escape(f"</{tag}>"))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.append(escape(self.get_starttag_text() or ""))

    def handle_data(self, data: str) -> None:
        self.out.append(escape(data))

    # Nothing is dropped: whatever else the text holds shows as the characters it is.
    def handle_comment(self, data: str) -> None:
        self.out.append(escape(f"<!--{data}-->"))

    def handle_decl(self, decl: str) -> None:
        self.out.append(escape(f"<!{decl}>"))

    def handle_pi(self, data: str) -> None:
        self.out.append(escape(f"<?{data}>"))

    def unknown_decl(self, data: str) -> None:
        self.out.append(escape(f"<![{data}]>"))


def telegram_html(text: str) -> Markup:
    """A Telegram HTML parse-mode message as it reads, rebuilt as safe HTML."""
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    parser.out.extend(f"</{name}>" for name in reversed(parser.open))
    return Markup("".join(parser.out))
