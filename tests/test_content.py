"""The shipped content is valid, and broken content fails with file, line and key."""

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from shared.commands import TOPICS
from shared.content import REQUIRED_REGIONS, UI_KEYS, Content, default_content_path, load_content
from shared.models import Age
from shared.problems import ProblemsError


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A private copy of the shipped content, to break."""
    target = tmp_path / "messages"
    shutil.copytree(default_content_path(), target)
    return target


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` in ``path``; return the 1-based line it was on."""
    text = path.read_text(encoding="utf-8")
    index = text.index(old)
    path.write_text(text[:index] + new + text[index + len(old) :], encoding="utf-8")
    return text.count("\n", 0, index) + 1


def errors_of(root: Path) -> str:
    with pytest.raises(ProblemsError) as error:
        load_content(root)
    return str(error.value)


def test_shipped_content_loads(content: Content) -> None:
    assert set(content.topics) == set(TOPICS)
    assert set(REQUIRED_REGIONS) <= set(content.regions)
    assert {"en", "fr"} <= set(content.locales)


def test_every_region_has_report_and_removal_for_both_ages(content: Content) -> None:
    for region in content.regions.values():
        kinds = {(r.kind, r.age) for r in region.resources}
        assert any(kind == "report" for kind, _ in kinds), region.code
        for age in (Age.UNDER18, Age.ADULT):
            assert ("remove", age) in kinds or ("remove", Age.ALL) in kinds, (region.code, age)


def test_content_is_immutable(content: Content) -> None:
    with pytest.raises(TypeError):
        content.topics["x"] = content.topics["about"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        content.regions["CA"].emergency = "0"  # type: ignore[misc]


def test_missing_ui_key(copy: Path) -> None:
    en = copy / "locales" / "en.toml"
    line = edit(en, "\ncooldown = ", "\nwas_cooldown = ") + 1
    assert f"locales/en.toml:{line}: ui.was_cooldown" not in errors_of(copy)
    assert re.search(r"messages/locales/en\.toml:\d+: ui\.cooldown: is missing", errors_of(copy))


def test_http_url_is_refused_at_its_line(copy: Path) -> None:
    line = edit(copy / "regions" / "CA.toml", 'url = "https://', 'url = "http://')
    assert re.search(
        rf"messages/regions/CA\.toml:{line}: resources\[\d+\]\.url: must be an https:// URL",
        errors_of(copy),
    )


def test_syntax_error_names_its_line(copy: Path) -> None:
    path = copy / "regions" / "GB.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines[:3], "this is = = broken", *lines[3:]]), encoding="utf-8")
    assert "messages/regions/GB.toml:4: (syntax):" in errors_of(copy)


def test_missing_region_file(copy: Path) -> None:
    (copy / "regions" / "NZ.toml").unlink()
    assert "messages/regions/NZ.toml:1: (file): region NZ is missing" in errors_of(copy)


@pytest.mark.parametrize(
    ("name", "missing"), [("regions/NZ.toml", "is missing"), ("locales/en.toml", "(file): missing")]
)
def test_a_file_that_cannot_be_read_is_not_also_missing(
    copy: Path, name: str, missing: str
) -> None:
    path = copy / name
    path.write_text(path.read_text(encoding="utf-8") + "\nbroken = = 1\n", encoding="utf-8")
    errors = errors_of(copy)
    assert re.search(rf"^error: messages/{re.escape(name)}:\d+: \(syntax\): ", errors, re.M)
    assert missing not in errors


def test_undialable_phone(copy: Path) -> None:
    line = edit(copy / "regions" / "US.toml", 'phone = "', 'phone = "call us ')
    assert re.search(
        rf"regions/US\.toml:{line}: resources\[\d+\]\.phone: .* not a number", errors_of(copy)
    )


def test_translation_missing_a_step(copy: Path) -> None:
    fr = copy / "locales" / "fr.toml"
    text = fr.read_text(encoding="utf-8")
    start = text.index("[topics.privacy-tips]")
    steps = text.index("steps = [", start)
    first_item = text.index('"', steps)
    end_item = text.index('",', first_item) + 2
    fr.write_text(text[:first_item] + text[end_item:], encoding="utf-8")
    assert re.search(
        r"locales/fr\.toml:\d+: topics\.privacy-tips\.steps: has \d+ steps, en has", errors_of(copy)
    )


def test_placeholder_mismatch(copy: Path) -> None:
    line = edit(copy / "locales" / "fr.toml", "{seconds}", "{secondes}")
    assert f"locales/fr.toml:{line}: ui.cooldown: placeholders must match en" in errors_of(copy)


def test_unknown_placeholder_in_a_topic(copy: Path) -> None:
    en = copy / "locales" / "en.toml"
    edit(en, '[topics.about]\ntitle = "', '[topics.about]\ntitle = "{phone} ')
    assert re.search(
        r"locales/en\.toml:\d+: topics\.about\.title: title: unknown \['phone'\]", errors_of(copy)
    )


def test_missing_verified_is_an_error_and_empty_is_a_warning(copy: Path) -> None:
    path = copy / "regions" / "AU.toml"
    line = edit(path, "verified = ", "checked = ")
    assert re.search(r"regions/AU\.toml:\d+: resources\[0\]\.verified: is missing", errors_of(copy))
    assert line > 0


def test_unverified_and_stale_resources_are_warnings(copy: Path) -> None:
    content = load_content(copy, today=date(2030, 1, 1))
    messages = [str(w) for w in content.warnings]
    assert any("over 12 months ago" in m for m in messages)
    fresh = load_content(copy)
    assert all("over 12 months" not in str(w) for w in fresh.warnings)
    assert any("not verified yet" in str(w) for w in fresh.warnings)


def test_every_error_is_reported_in_one_run(copy: Path) -> None:
    edit(copy / "regions" / "CA.toml", 'url = "https://', 'url = "http://')
    edit(copy / "locales" / "fr.toml", "{seconds}", "{secondes}")
    (copy / "regions" / "IE.toml").unlink()
    text = errors_of(copy)
    assert "CA.toml" in text
    assert "fr.toml" in text
    assert "IE.toml" in text


def test_ui_keys_the_code_uses_exist_in_every_locale(content: Content) -> None:
    for locale in content.locales:
        for key in UI_KEYS:
            assert content.ui(locale, key)


@pytest.mark.parametrize("broken", ["{", "}", "{0}", "{region!r}", "{region:>9}", "{a.b}"])
def test_malformed_braces_are_refused_at_their_line(copy: Path, broken: str) -> None:
    line = edit(copy / "locales" / "en.toml", 'help_title = "', f'help_title = "{broken} ')
    assert f"locales/en.toml:{line}: ui.help_title:" in errors_of(copy)


def test_region_aliases_are_read_from_content(content: Content) -> None:
    assert "UK" in content.regions["GB"].aliases
    assert "Aotearoa" in content.regions["NZ"].aliases
    assert "Éire" in content.regions["IE"].aliases


def test_an_alias_naming_two_regions_is_an_error_naming_both_files(copy: Path) -> None:
    line = edit(copy / "regions" / "NZ.toml", 'aliases = ["', 'aliases = ["U.K.", "')
    errors = errors_of(copy)
    assert re.search(
        rf"regions/NZ\.toml:{line}: region\.aliases: 'U\.K\.' also names GB in "
        r"messages/regions/GB\.toml",
        errors,
    ), errors


def test_an_alias_that_is_another_regions_name_is_an_error(copy: Path) -> None:
    edit(copy / "regions" / "AU.toml", 'aliases = ["', 'aliases = ["Ireland", "')
    assert "region.aliases: 'Ireland' also names IE in messages/regions/IE.toml" in errors_of(copy)


@pytest.mark.parametrize("aliases", ['"UK"', '[""]', "[1]", '["-"]'])
def test_aliases_must_be_a_list_of_names(copy: Path, aliases: str) -> None:
    line = edit(copy / "regions" / "GB.toml", "aliases = [", f"aliases = {aliases}\nold = [")
    assert f"regions/GB.toml:{line}: region.aliases: must be a list of names" in errors_of(copy)
