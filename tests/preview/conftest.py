"""Fixtures: a preview site built once from the shipped content, one built from an edited
copy compared with the shipped content, and Chromium (when it is installed)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bots.preview.site import Site, collect, write
from shared.config import Config
from shared.content import Content, default_content_path, load_content

CHROMIUM = Path(os.environ.get("SAFETY_BOT_CHROMIUM", "/usr/bin/chromium"))
REQUIRE_BROWSER = os.environ.get("SAFETY_BOT_REQUIRE_BROWSER") == "1"
"""Set by .ci/run: there a missing browser fails the browser tests instead of skipping them."""
PHONE = {"width": 375, "height": 800}
OLD_PHONE = "1800 66 66 66"
"""Childline Ireland's number: the edited copy changes it, so exactly the replies that show
it differ."""
NEW_PHONE = "1800 66 66 99"
CLOSED_PORT = 9
"""The discard port, which nothing listens on here: requests to it are refused at once."""


@dataclass(frozen=True)
class Built:
    """A site written to ``folder``, and what it was built from."""

    site: Site
    folder: Path

    def url(self, path: str) -> str:
        """The address of a page of the site."""
        return (self.folder / path).as_uri()


def edited_content(folder: Path, edit: Callable[[Path], None]) -> Path:
    """A copy of the shipped content in ``folder``/messages, changed by ``edit``."""
    copy = folder / "messages"
    shutil.copytree(default_content_path(), copy)
    edit(copy)
    return copy


def replace_in(path: Path, old: str, new: str, *, first: bool = False) -> None:
    """Replace the one occurrence of ``old`` in a content file (the first, with ``first``)."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1 or (first and old in text), (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def build(folder: Path, content: Content, before: Content | None = None) -> Built:
    """Write the site of ``content`` (compared with ``before``, if given) into ``folder``."""
    site = collect(content, Config(), source="messages", before=before, against="previous")
    write(site, folder)
    return Built(site, folder)


@pytest.fixture(scope="session")
def built(content: Content, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The site of the shipped content."""
    return build(tmp_path_factory.mktemp("site"), content)


@pytest.fixture(scope="session")
def changed(content: Content, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The site of a copy whose Childline Ireland number changed, compared with the shipped
    content (the previous version)."""
    folder = tmp_path_factory.mktemp("changed")
    copy = edited_content(
        folder, lambda root: replace_in(root / "regions" / "IE.toml", OLD_PHONE, NEW_PHONE)
    )
    return build(folder / "site", load_content(copy), before=content)


# -- the browser -----------------------------------------------------------------------------


@dataclass
class Tab:
    """A page in Chromium, with everything that went wrong on it since it was opened."""

    page: Any
    problems: list[str] = field(default_factory=list)

    def open(self, url: str) -> None:
        """Load ``url`` and wait until it has loaded."""
        self.problems.clear()
        self.page.goto(url, wait_until="load")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium from the system (Debian's package), driven by Playwright."""
    if not CHROMIUM.is_file():
        message = (
            f"no Chromium at {CHROMIUM}: install it (`apt-get install chromium`) or set"
            " SAFETY_BOT_CHROMIUM to its path to run the browser tests"
        )
        if REQUIRE_BROWSER:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu"],
            # Every web request goes to a closed port on this machine, so a page that tried
            # to load anything from the internet fails (and is reported) without leaving it.
            proxy={"server": f"http://127.0.0.1:{CLOSED_PORT}"},
        )
        yield chromium
        chromium.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    """A phone-sized page that records console errors, script errors, failed requests and
    dialogs."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    tab = Tab(page)
    page.on(
        "console",
        lambda m: (
            tab.problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: tab.problems.append(f"script error: {error}"))
    page.on("requestfailed", lambda request: tab.problems.append(f"failed: {request.url}"))
    page.on("dialog", lambda dialog: (tab.problems.append("dialog"), dialog.dismiss()))
    yield tab
    context.close()
