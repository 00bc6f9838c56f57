"""The shipped content is valid, and broken content fails with file, line and key."""

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from shared.commands import TOPICS
from shared.content import (
    REQUIRED_REGIONS,
    UI_KEYS,
    Content,
    default_content_path,
    load_content,
    missing_for,
)
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
    assert not fresh.warnings, "the shipped content is verified and recent"
    line = edit(copy / "regions" / "AU.toml", "verified = 2026-11-24", 'verified = ""')
    unverified = [str(w) for w in load_content(copy).warnings]
    assert any(f"AU.toml:{line}:" in m and "not verified yet" in m for m in unverified)


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


def drop_resource(path: Path, rid: str) -> None:
    """Remove the [[resources]] table with ``id = rid`` from a region file."""
    text = path.read_text(encoding="utf-8")
    tables = text.split("[[resources]]")
    kept = [t for t in tables if f'id = "{rid}"' not in t]
    assert len(kept) == len(tables) - 1, rid
    path.write_text("[[resources]]".join(kept), encoding="utf-8")


def test_every_region_and_age_has_a_24_7_crisis_line_a_report_and_a_removal_tool(
    content: Content,
) -> None:
    for code, region in content.regions.items():
        for age in (Age.UNDER18, Age.ADULT):
            assert missing_for(code, region.resources, age) == [], (code, age)


def test_a_missing_crisis_line_names_region_and_age(copy: Path) -> None:
    drop_resource(copy / "regions" / "NZ.toml", "need-to-talk-1737")
    drop_resource(copy / "regions" / "NZ.toml", "youthline")
    text = errors_of(copy)
    assert "NZ, adult: no crisis line that answers 24/7" in text
    assert "NZ, under18: no crisis line that answers 24/7" in text


def test_an_age_band_that_leaves_adults_uncovered_is_refused(copy: Path) -> None:
    # Without Lifeline, Kids Helpline (5 to 25) leaves Australian adults over 25 with no line.
    drop_resource(copy / "regions" / "AU.toml", "lifeline")
    text = errors_of(copy)
    assert "AU, adult: no crisis line that answers 24/7 for every age in this group" in text


def test_a_line_that_does_not_answer_at_night_is_no_crisis_line(copy: Path) -> None:
    path = copy / "regions" / "IE.toml"
    for rid in ("samaritans-ie",):
        drop_resource(path, rid)
    edit(
        path, 'phone = "1800 66 66 66"\nhours = "24/7"', 'phone = "1800 66 66 66"\nhours = "online"'
    )
    assert "IE, under18: no crisis line that answers 24/7" in errors_of(copy)


def test_adults_need_a_place_to_report(copy: Path) -> None:
    drop_resource(copy / "regions" / "GB.toml", "police-101")
    text = errors_of(copy)
    assert "GB, adult: no place to report" in text
    assert "GB, under18: no place to report" not in text


def test_take_it_down_does_not_count_as_an_adults_only_removal_tool(copy: Path) -> None:
    # An adult whose image was taken at 18 or over needs StopNCII.org; Take It Down is for
    # images taken before 18.
    drop_resource(copy / "regions" / "INTL.toml", "stopncii")
    assert "CA, adult: no tool that stops images spreading" in errors_of(copy)


@pytest.mark.parametrize("value", ["25-5", "teen", "under0", "5 to 25"])
def test_age_must_be_a_group_a_range_or_a_limit(copy: Path, value: str) -> None:
    line = edit(copy / "regions" / "AU.toml", 'age = "5-25"', f'age = "{value}"')
    assert re.search(rf"regions/AU\.toml:{line}: resources\[\d+\]\.age: must be", errors_of(copy))


def test_limited_hours_must_be_written_in_every_language(copy: Path) -> None:
    edit(copy / "regions" / "GB.toml", 'hours = "lun.-ven.', 'opening = "lun.-ven.')
    assert re.search(
        r"regions/GB\.toml:\d+: resources\[\d+\]\.fr\.hours: is missing", errors_of(copy)
    )


def test_hours_and_confidence_take_known_values(copy: Path) -> None:
    path = copy / "regions" / "CA.toml"
    edit(path, 'hours = "24/7"', 'hours = "always"')
    edit(path, 'confidence = "high"', 'confidence = "check"')
    text = errors_of(copy)
    assert "hours: must be one of ['24/7', 'online', 'limited'], not 'always'" in text
    assert "confidence: must be one of ['high', 'medium'], not 'check'" in text


def test_french_puts_a_space_before_a_colon(copy: Path) -> None:
    line = edit(copy / "locales" / "fr.toml", 'help_title = "', 'help_title = "Aide: ')
    assert f"locales/fr.toml:{line}: ui.help_title: put a space before ':'" in errors_of(copy)
    edit(
        copy / "regions" / "CA.toml",
        "si on vous a demandé de l'argent :",
        "si on vous a demandé de l'argent:",
    )
    assert re.search(
        r"regions/CA\.toml:\d+: resources\[\d+\]\.fr\.purpose: put a space", errors_of(copy)
    )


def test_a_translated_step_keeps_the_ages_it_is_worded_for(copy: Path) -> None:
    fr = copy / "locales" / "fr.toml"
    edit(fr, ', both = "Parlez-en', ', autre = "Parlez-en')
    text = errors_of(copy)
    assert re.search(r"locales/fr\.toml:\d+: topics\.help-threatened\.steps\[\d+\]", text)
    assert "unknown keys ['autre']" in text


def test_a_topic_source_may_not_be_one_regions_service(copy: Path) -> None:
    old = '    "https://takeitdown.ncmec.org/faq/",\n]\n\n[image-shared]'
    uk = '    "https://www.revengepornhelpline.org.uk/faq",\n'
    edit(copy / "topics.toml", old, old.replace("]", uk + "]", 1))
    text = errors_of(copy)
    message = "revengepornhelpline.org.uk is the site of a service for GB only"
    assert re.search(rf"topics\.toml:\d+: help-threatened\.sources\[3\]: {message}", text)


def test_a_region_note_needs_a_known_topic_and_placeholders(copy: Path) -> None:
    path = copy / "regions" / "CA.toml"
    edit(path, 'topic = "image-shared"', 'topic = "image-share"')
    edit(path, 'en = "In Canada, most young', 'en = "In {country}, most young')
    text = errors_of(copy)
    assert re.search(r"regions/CA\.toml:\d+: notes\[0\]\.topic: must be one of", text)
    assert re.search(r"regions/CA\.toml:\d+: notes\[1\]\.en: unknown \['country'\]", text)
