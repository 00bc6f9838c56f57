"""The built site in a real Chromium: what a reviewer with only a browser sees."""

from __future__ import annotations

import html
import json
import re
import struct
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bots.preview.replies import Combination, ReplyView
from bots.telegram import limits as telegram_limits
from shared.content import load_content
from shared.models import Age
from tests.preview.conftest import (
    NEW_PHONE,
    OLD_PHONE,
    PHONE,
    Built,
    Tab,
    build,
    edited_content,
    replace_in,
)

BIN = Path(sys.executable).parent / "safety-bot"
PROJECT = Path(__file__).resolve().parents[2]
SCREENSHOTS = PROJECT / "build" / "screenshots"
# A reply of each shape: long advice with age choices, French, no age option, no resources.
SAMPLE = [
    Combination("help-threatened", "fr", "IE", Age.UNDER18),
    Combination("report", "en", "US", Age.ADULT),
    Combination("for-parents", "fr", "CA", None),
    Combination("about", "en", "INTL", None),
]
# What a page says about itself: its links (as written and as resolved), the buttons of each
# look-alike, the ids fragments may point at, and its width.
PAGE_FACTS = """() => ({
  links: [...document.querySelectorAll('a[href]')].map(a => [a.getAttribute('href'), a.href]),
  ids: [...document.querySelectorAll('[id]')].map(e => e.id),
  discord: [...document.querySelectorAll('.dc-button')]
    .map(a => [a.textContent, a.getAttribute('href')]),
  telegram: [...document.querySelectorAll('.tg-url')]
    .map(a => [a.textContent, a.getAttribute('href')]),
  lang: document.documentElement.lang,
  replyLangs: [...document.querySelectorAll('.tg-bubble, .console, .dc-embed')]
    .map(e => e.closest('[lang]').lang),
  scripts: document.scripts.length,
  width: document.documentElement.scrollWidth,
})"""


def page_problems(built: Built, tab: Tab, path: str, view: ReplyView | None) -> list[str]:
    """Everything wrong with one page: what the browser reported, horizontal overflow on a
    phone, links that are not https or lead nowhere, and, on a reply's page, link buttons
    that are not exactly the reply's."""
    tab.open(built.url(path))
    facts = tab.page.evaluate(PAGE_FACTS)
    problems = [f"{path}: {problem}" for problem in tab.problems]
    if facts["width"] > PHONE["width"]:
        problems.append(f"{path}: {facts['width']} px wide on a {PHONE['width']} px phone")
    if facts["scripts"] or facts["lang"] != "en":
        problems.append(f"{path}: {facts['scripts']} scripts, lang {facts['lang']!r}")
    for written, resolved in facts["links"]:
        target = urlsplit(resolved)
        if written.startswith("https://"):
            continue
        if target.scheme != "file" or urlsplit(written).scheme:
            problems.append(f"{path}: link {written!r} is neither https nor a page of the site")
        elif not Path(unquote(target.path)).is_file():
            problems.append(f"{path}: link {written!r} leads to no page")
        elif written.startswith("#") and target.fragment not in facts["ids"]:
            problems.append(f"{path}: link {written!r} leads to nothing on the page")
    if view is not None:
        expected = [[b.label, b.url] for b in view.reply.buttons]
        for platform in ("discord", "telegram"):
            if facts[platform] != expected:
                problems.append(f"{path}: {platform} buttons {facts[platform]} != {expected}")
        if set(facts["replyLangs"]) != {view.lang}:
            problems.append(f"{path}: reply lang {facts['replyLangs']} != {view.lang}")
    return problems


def test_every_page_loads_cleanly_fits_a_phone_and_links_right(built: Built, tab: Tab) -> None:
    views = {c.path: view for c, view in built.site.views.items()}
    pages = sorted(str(p.relative_to(built.folder)) for p in built.folder.rglob("*.html"))
    others = ["index.html", "texts.html", "warnings.html"]
    assert len(pages) == len(views) + len(others) + len(built.site.content.regions)
    problems = [p for path in pages for p in page_problems(built, tab, path, views.get(path))]
    assert problems == []


def serious_violations(tab: Tab) -> list[str]:
    """What axe-core finds on the open page at the serious or critical level."""
    from axe_playwright_python.sync_playwright import Axe

    # Without preloading: axe would fetch the stylesheet with a request file:// refuses.
    result = Axe().run(tab.page, options={"resultTypes": ["violations"], "preload": False})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_no_serious_violation(built: Built, changed: Built, tab: Tab) -> None:
    pages = [
        (built, "index.html"),
        (built, "warnings.html"),
        (built, "texts.html"),
        (built, "regions/CA.html"),
        (changed, "changes.html"),
        (changed, Combination("help-threatened", "en", "IE", None).path),
        (built, SAMPLE[0].path),
        (built, SAMPLE[-1].path),
    ]
    found = []
    for site, path in pages:
        tab.open(site.url(path))
        found += [f"{path}: {v}" for v in serious_violations(tab)]
        found += [f"{path}: {problem}" for problem in tab.problems]
    assert found == []


def ask(c: Combination, *options: str) -> str:
    """What ``safety-bot ask`` prints for ``c``."""
    result = subprocess.run(
        [str(BIN), "ask", *c.ask_arguments(), *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def discord_reads(markdown: str) -> str:
    """A Discord description as a person reads it: ``**`` gone, ``\\*`` shown as ``*``."""
    return re.sub(r"\*\*|\\([^\w\s])", lambda m: m.group(1) or "", markdown)


def telegram_reads(text: str) -> str:
    """Telegram HTML as a person reads it: tags gone, entities decoded."""
    return html.unescape(telegram_limits.strip_tags(text))


def test_pages_show_what_safety_bot_ask_prints(built: Built, tab: Tab) -> None:
    for c in SAMPLE:
        tab.open(built.url(c.path))
        text = tab.page.inner_text

        discord = json.loads(ask(c, "--platform", "discord", "--json"))["data"]
        embed = discord["embeds"][0]
        assert text(".dc-title") == discord_reads(embed["title"])
        assert text(".dc-description") == discord_reads(embed["description"])
        assert text(".dc-footer") == embed["footer"]["text"]
        shown = tab.page.eval_on_selector_all(
            ".dc-button", "bs => bs.map(b => [b.textContent, b.getAttribute('href')])"
        )
        sent = [
            [b["label"], b["url"]]
            for row in discord.get("components", [])
            for b in row["components"]
        ]
        assert shown == sent
        bar = tab.page.eval_on_selector(".dc-embed", "e => getComputedStyle(e).borderLeftColor")
        colour = embed["color"]
        assert bar == f"rgb({colour >> 16}, {(colour >> 8) & 255}, {colour & 255})"
        assert (tab.page.locator(".dc-ephemeral").count() == 1) == bool(discord["flags"] & 64)

        telegram = json.loads(ask(c, "--platform", "telegram", "--json"))
        assert text(".tg-bubble") == telegram_reads(telegram["text"])
        assert tab.page.eval_on_selector_all(
            ".tg-bubble strong", "bs => bs.map(b => b.textContent)"
        ) == [html.unescape(b) for b in re.findall(r"<b>(.*?)</b>", telegram["text"])]
        rows = tab.page.eval_on_selector_all(
            ".tg-row", "rows => rows.map(r => [...r.children].map(b => b.textContent))"
        )
        keyboard = telegram.get("reply_markup", {}).get("inline_keyboard", [])
        assert rows == [[b["text"] for b in row] for row in keyboard]
        links = tab.page.eval_on_selector_all(
            ".tg-url", "bs => bs.map(b => [b.textContent, b.getAttribute('href')])"
        )
        assert links == [[b["text"], b["url"]] for row in keyboard for b in row if "url" in b]

        console = ask(c)
        assert tab.page.text_content(".console") == console.removesuffix("\n")
        reply = json.loads(ask(c, "--json"))
        assert [[b["label"], b["url"]] for b in reply["buttons"]] == links
        assert tab.problems == []


def test_telegram_choices_open_the_version_they_choose(built: Built, tab: Tab) -> None:
    c = SAMPLE[0]
    tab.open(built.url(c.path))
    tab.page.click(".tg-choice >> text=GB")
    assert tab.page.url == built.url(Combination(c.topic, c.locale, "GB", c.age).path)
    # Pressing the chosen age again shows both age groups.
    tab.page.click(".tg-choice >> text=✓")
    tab.page.click(f".tg-choice >> nth={-2}")
    assert tab.page.url == built.url(Combination(c.topic, c.locale, "GB", None).path)
    assert tab.problems == []


def changed_pages(built: Built) -> set[str]:
    """Reply pages that say they changed."""
    return {
        str(path.relative_to(built.folder))
        for path in (built.folder / "replies").rglob("*.html")
        if 'class="changed"' in path.read_text(encoding="utf-8")
    }


def test_against_marks_exactly_the_replies_the_edit_changed(
    built: Built, changed: Built, tab: Tab
) -> None:
    # Independent of the preview's diff: the replies whose text shows the old number.
    expected = {c.path for c, view in built.site.views.items() if OLD_PHONE in view.console}
    assert 0 < len(expected) < len(built.site.views)

    tab.open(changed.url("changes.html"))
    listed = tab.page.eval_on_selector_all(
        ".changed-replies a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert sorted(listed) == sorted(expected)
    assert tab.page.locator("del", has_text=OLD_PHONE).count() >= 1
    assert tab.page.locator("ins", has_text=NEW_PHONE).count() >= 1
    assert tab.page.locator(".diff del").count() == tab.page.locator(".diff ins").count()

    tab.open(changed.url("index.html"))
    marked = tab.page.eval_on_selector_all(
        ".changed-cell a", "links => links.map(a => a.getAttribute('href'))"
    )
    assert sorted(marked) == sorted(expected)
    assert changed_pages(changed) == expected
    assert changed_pages(built) == set()
    assert tab.problems == []


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header."""
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def test_screenshots_of_the_look_alikes(built: Built, tab: Tab) -> None:
    """Saves build/screenshots/preview-discord.png and preview-telegram.png (the README shows
    a copy of the Discord one: docs/preview-discord.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tab.open(built.url(Combination("help-threatened", "en", "GB", Age.UNDER18).path))
    for platform in ("discord", "telegram"):
        path = SCREENSHOTS / f"preview-{platform}.png"
        tab.page.locator(f".{platform}").screenshot(path=path)
        width, height = png_size(path)
        assert 300 <= width <= PHONE["width"], (platform, width)
        assert height > 300, (platform, height)
    assert tab.problems == []


def test_printed_pages_drop_navigation_and_fit(built: Built, tab: Tab) -> None:
    tab.page.emulate_media(media="print")
    tab.open(built.url(SAMPLE[0].path))
    assert not tab.page.is_visible(".versions")
    assert not tab.page.is_visible("header.site nav")
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


HOSTILE = "<img src=x onerror=alert(1)> **loud** <b>bold</b> & <script>alert(2)</script>"


def test_content_never_runs_as_html(tmp_path: Path, tab: Tab) -> None:
    def poison(root: Path) -> None:
        english = '[resources.en]\nname = "Hotline.ie"'
        replace_in(root / "regions" / "IE.toml", english, f"[resources.en]\nname = '{HOSTILE}'")

    content = load_content(edited_content(tmp_path, poison))
    hostile = build(tmp_path / "site", content)
    for path in (Combination("report", "en", "IE", None).path, "regions/IE.html"):
        tab.open(hostile.url(path))
        assert tab.page.evaluate("document.querySelectorAll('script, img').length") == 0
        assert HOSTILE in tab.page.inner_text("main")
        assert tab.problems == []
    assert HOSTILE in tab.page.inner_text(".resources")
    tab.open(hostile.url(Combination("report", "en", "IE", None).path))
    for look in (".dc-description", ".tg-bubble", ".console"):
        assert HOSTILE in tab.page.inner_text(look), look
