"""The preview site's contents, without a browser: safe markup, every reply and fact, the
limits, the change report and the command."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from hypothesis import assume, given
from hypothesis import strategies as st

from bots.discord import render as discord
from bots.preview.changes import ADDED, FOLDED, REMOVED, SAME, Change, compare, diff
from bots.preview.facts import resource_facts
from bots.preview.markup import discord_markdown, telegram_html
from bots.preview.replies import Combination, combinations
from bots.telegram import render as telegram
from shared.config import Config
from shared.content import Content, load_content
from shared.core import Core
from shared.models import Age
from tests.preview.conftest import Built, build, edited_content, replace_in

BIN = Path(sys.executable).parent / "safety-bot"
OUR_TAGS = re.compile(r"</?(strong|em|u|s|code|blockquote|a)( href=\"https://[^\"]*\")?>")


def visible(markup: str) -> str:
    """The characters a browser shows for markup this package wrote."""
    return html.unescape(OUR_TAGS.sub("", markup))


# -- markup ---------------------------------------------------------------------------------


def test_discord_markdown_shows_bold_and_escaped_characters() -> None:
    shown = str(discord_markdown(discord.escape("a_b *c* <i>") + "\n\n**Report**"))
    assert shown == "a_b *c* &lt;i&gt;\n\n<strong>Report</strong>"


def test_telegram_html_keeps_the_bots_tags_and_nothing_else() -> None:
    text = '<b>Title</b> &lt;b&gt;x&lt;/b&gt; <i>src</i> <a href="javascript:alert(1)">y</a>'
    shown = str(telegram_html(text))
    assert shown.startswith("<strong>Title</strong> &lt;b&gt;x&lt;/b&gt; <em>src</em> ")
    assert "<a" not in shown
    assert "&lt;a href=&#34;javascript:alert(1)&#34;&gt;y&lt;/a&gt;" in shown
    assert str(telegram_html("<b>open")) == "<strong>open</strong>"
    assert str(telegram_html("<!-- c --><br/>")) == "&lt;!-- c --&gt;&lt;br/&gt;"


@given(st.text())
def test_any_content_shows_as_its_own_characters(text: str) -> None:
    # discord.py escapes "  - x" at the start of a line as "\\  - x", which Discord
    # shows with its backslash; the look-alike shows it so too.
    assume(not re.search(r"(?m)^\s+-", text))
    for shown, escaped in (
        (discord_markdown, discord.escape(text)),
        (telegram_html, telegram.escape(text)),
    ):
        markup = str(shown(escaped))
        assert "<" not in OUR_TAGS.sub("", markup)
        # Discord's escape breaks mentions with a zero-width space.
        assert visible(markup).replace("\u200b", "") == text.replace("\u200b", "")


# -- the pages ------------------------------------------------------------------------------


def test_every_reply_has_its_page_in_its_language(built: Built, content: Content) -> None:
    expected = set(combinations(content))
    assert set(built.site.views) == expected
    assert len(expected) == 210
    for c in expected:
        page = (built.folder / c.path).read_text(encoding="utf-8")
        tag = "fr-CA" if c.locale == "fr" else "en"
        assert page.startswith('<!doctype html>\n<html lang="en">')
        assert f'<div class="tg-bubble" lang="{tag}">' in page, c
        assert f'<pre class="console" lang="{tag}">' in page, c
    pages = list(built.folder.rglob("*.html"))
    assert not any("<script" in page.read_text(encoding="utf-8") for page in pages)


def test_every_shown_resource_has_its_facts(built: Built, content: Content) -> None:
    for c, view in built.site.views.items():
        lines = [line for s in view.reply.sections if not s.commands for line in s.lines]
        assert [shown.name for shown in view.resources] == [line.name for line in lines], c
        page = (built.folder / c.path).read_text(encoding="utf-8")
        for shown in view.resources:
            source = shown.resource.source
            assert f'<a href="{html.escape(source)}">' in page, (c, source)
            verified = shown.resource.verified
            assert (verified.isoformat() if verified else "not yet") in page


def test_region_pages_list_every_resource_and_what_each_age_sees(
    built: Built, content: Content
) -> None:
    for code, region in content.regions.items():
        page = (built.folder / "regions" / f"{code}.html").read_text(encoding="utf-8")
        for resource in region.resources:
            assert f'<li id="{resource.id}">' in page, (code, resource.id)
            for locale in content.locales:
                name = content.resource_text(resource, locale).name
                assert name in html.unescape(page), (code, name)
        under18 = Combination("image-shared", "en", code, Age.UNDER18)
        row = page.split(f'href="../{under18.path}">under 18</a>', 1)[1].split("</tr>", 1)[0]
        assert [r.id for r in (v.resource for v in built.site.views[under18].resources)] == (
            re.findall(r'href="#([^"]+)"', row)
        )


def test_warnings_page_lists_what_check_warns_about(tmp_path: Path) -> None:
    # The shipped content has no warnings (check --strict passes): make one.
    copy = edited_content(
        tmp_path,
        lambda root: replace_in(
            root / "regions" / "IE.toml", "verified = 2026-11-24\n", 'verified = ""\n', first=True
        ),
    )
    site = build(tmp_path / "site", load_content(copy))
    (tmp_path / "config.toml").write_text(f'[content]\npath = "{copy}"\n')
    check = subprocess.run(
        [str(BIN), "check"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    warnings = [line for line in check.stdout.splitlines() if line.startswith("warning: ")]
    assert warnings, check.stdout
    page = html.unescape(re.sub(r"<[^>]+>", "", (site.folder / "warnings.html").read_text()))
    for line in warnings:
        where, key, message = line.removeprefix("warning: ").split(": ", 2)
        assert f"{where} {key}: {message}" in page, line


def test_texts_page_shows_every_other_text_in_every_language(
    built: Built, content: Content
) -> None:
    page = html.unescape((built.folder / "texts.html").read_text(encoding="utf-8"))
    for locale in content.locales.values():
        for key, text in (*locale.ui.items(), *locale.commands.items()):
            assert f"<code>{key}</code>" in page
            assert text in page, (locale.code, key)


def test_unverified_and_stale_facts_are_flagged(content: Content, tmp_path: Path) -> None:
    resource = content.regions["IE"].resources[0]
    assert resource.verified is not None
    later = date(resource.verified.year + 2, 1, 1)
    facts = {
        fact.label: fact
        for fact in resource_facts(Core(content, None, Config()), resource, "en", later)
    }
    assert facts["Verified"].warning == "over 12 months ago"
    assert facts["Source"].url == resource.source
    assert facts["Hours"].text
    assert facts["Confidence"].text.startswith(resource.confidence)

    hotline = 'source = "https://hotline.ie/report"\nverified = '
    copy = edited_content(
        tmp_path,
        lambda root: replace_in(
            root / "regions" / "IE.toml", f"{hotline}2026-11-24", f'{hotline}""'
        ),
    )
    site = build(tmp_path / "site", load_content(copy))
    page = (site.folder / "regions" / "IE.html").read_text()
    assert "Check: nobody has confirmed it on its source" in page
    assert "hotline.ie/report" in (site.folder / "warnings.html").read_text()


def test_a_reply_over_a_limit_is_flagged(tmp_path: Path) -> None:
    long_name = "Hotline " * 700
    copy = edited_content(
        tmp_path,
        lambda root: replace_in(
            root / "regions" / "IE.toml",
            '[resources.en]\nname = "Hotline.ie"',
            f'[resources.en]\nname = "{long_name}"',
        ),
    )
    site = build(tmp_path / "site", load_content(copy))
    c = Combination("help-threatened", "en", "IE", None)
    over = {(where, m.what) for where, m in site.site.views[c].over}
    assert ("Discord", "Description") in over
    assert ("Telegram", "Message text") in over
    assert ("First screen", "Body (summary, steps, resources)") in over
    page = (site.folder / c.path).read_text()
    assert page.count("<strong>Over the limit</strong>") >= 4
    assert c.path in (site.folder / "warnings.html").read_text()
    assert "as 2 messages" in page


# -- changes --------------------------------------------------------------------------------


def test_diff_marks_added_and_removed_lines_in_place() -> None:
    lines = diff(["a", "b", "c"], ["a", "B", "c", "d"])
    assert [(line.mark, line.text) for line in lines] == [
        (SAME, "a"),
        (REMOVED, "b"),
        (ADDED, "B"),
        (SAME, "c"),
        (ADDED, "d"),
    ]


def test_compare_lists_only_differing_replies_and_those_one_side_has() -> None:
    kept = Combination("report", "en", "CA", None)
    edited = Combination("report", "en", "GB", None)
    gone = Combination("report", "en", "IE", None)
    new = Combination("report", "en", "NZ", None)
    now = {kept: ["x"], edited: ["y2"], new: ["z"]}
    before = {kept: ["x"], edited: ["y"], gone: ["w"]}
    changes = {change.combination: change for change in compare(now, before)}
    assert set(changes) == {edited, gone, new}
    assert [line.mark for line in changes[gone].lines] == [REMOVED]
    assert [line.mark for line in changes[new].lines] == [ADDED]


def test_folded_changes_keep_context_around_each_edit() -> None:
    old = [f"line {i}" for i in range(20)]
    new = [*old[:10], "changed", *old[11:]]
    folded = Change(Combination("report", "en", "CA", None), diff(old, new)).folded(context=2)
    assert [line.mark for line in folded] == [
        FOLDED,
        SAME,
        SAME,
        REMOVED,
        ADDED,
        SAME,
        SAME,
        FOLDED,
    ]
    assert folded[0].text == "8 unchanged lines"


# -- the command ----------------------------------------------------------------------------


def preview(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN), "preview", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_preview_help_explains_the_command(tmp_path: Path) -> None:
    result = preview("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "--out DIR" in result.stdout
    assert "--against PATH" in result.stdout


def test_preview_writes_the_site_and_rebuilds_it_in_place(tmp_path: Path) -> None:
    result = preview("--out", "site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Wrote 220 pages (210 replies) to site" in result.stdout
    assert (tmp_path / "site" / "index.html").is_file()
    leftover = tmp_path / "site" / "replies" / "old-topic" / "en" / "CA-any.html"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("a reply that no longer exists")
    again = preview("--out", "site", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert not leftover.exists()


def test_preview_never_writes_into_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = preview("--out", str(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "not empty and was not written by safety-bot preview" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_preview_against_a_checkout_of_the_previous_version(tmp_path: Path) -> None:
    checkout = tmp_path / "previous"
    edited_content(checkout, lambda root: None)
    (tmp_path / "config.toml").write_text('[content]\npath = "messages"\n')
    edited_content(
        tmp_path,
        lambda root: replace_in(
            root / "regions" / "NZ.toml", 'emergency = "111"', 'emergency = "112"'
        ),
    )
    result = preview("--out", "site", "--against", "previous", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\d+ replies differ from previous$", result.stdout, re.M)
    assert "/NZ-" in (tmp_path / "site" / "changes.html").read_text()


def test_preview_against_broken_or_missing_content_says_where(tmp_path: Path) -> None:
    broken = edited_content(
        tmp_path, lambda root: (root / "locales" / "fr.toml").write_text("[locale\n")
    )
    result = preview("--out", "site", "--against", str(broken), cwd=tmp_path)
    assert result.returncode == 2
    assert "cannot compare: the content in" in result.stderr
    assert "locales/fr.toml:1: (syntax)" in result.stderr
    missing = preview("--out", "site", "--against", "nowhere", cwd=tmp_path)
    assert missing.returncode == 2
    assert "nowhere:1: (folder): content folder not found" in missing.stderr
    assert not (tmp_path / "site").exists()
