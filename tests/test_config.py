from pathlib import Path

import pytest

from bots.registry import SECTIONS, load_config
from shared.config import schema
from shared.problems import ProblemsError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(env={})
    assert config.default_region == "CA"
    assert config.database == tmp_path / "safety-bot.sqlite3"
    assert config.tokens["telegram"] == ""


def test_config_toml_in_working_directory_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, '[bot]\ndefault_region = "GB"\n')
    monkeypatch.chdir(tmp_path)
    assert load_config(env={}).default_region == "GB"


def test_environment_token_wins_over_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken = "from-file"\n[discord]\ntoken = "file"\n')
    config = load_config(path, env={"TELEGRAM_TOKEN": "from-env"})
    assert config.tokens["telegram"] == "from-env"
    assert config.tokens["discord"] == "file"


def test_tokens_never_appear_in_repr(tmp_path: Path) -> None:
    config = load_config(None, env={"TELEGRAM_TOKEN": "sentinel-t", "DISCORD_TOKEN": "sentinel-d"})
    assert "sentinel" not in repr(config)


def test_postgres_url_is_read_and_kept_out_of_repr(tmp_path: Path) -> None:
    url = "postgresql://bot:sentinel-pw@db.internal:5432/safety"
    config = load_config(write(tmp_path, f'[storage]\nurl = "{url}"\n'), env={})
    assert config.database_url == url
    assert "sentinel" not in repr(config)


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[storage]\ndatabase = "data/bot.db"\n[content]\npath = "msgs"\n')
    config = load_config(path, env={})
    assert config.database == tmp_path / "data" / "bot.db"
    assert config.content_path == tmp_path / "msgs"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[bot]\n\ndefault_region = "Canada"\n',
            "config.toml:3: bot.default_region: must be a region",
        ),
        ("[bot]\nregion = 1\n", "config.toml:2: bot.region: unknown key"),
        ("[bots]\n", "config.toml:1: bots: unknown section"),
        ('[cooldown]\ncommands = "five"\n', "config.toml:2: cooldown.commands: must be int"),
        ("[telegram]\nport = 70000\n", "config.toml:2: telegram.port: must be 1-65535"),
        ('[telegram]\nwebhook_url = "http://x"\n', "telegram.webhook_url: must be an https"),
        ('[logging]\nlevel = "LOUD"\n', "config.toml:2: logging.level: must be one of"),
        ('[storage]\nurl = "mysql://h/db"\n', "config.toml:2: storage.url: must be a PostgreSQL"),
        (
            '[storage]\ndatabase = "bot.db"\nurl = "postgresql://h/db"\n',
            "config.toml:3: storage.url: set either url (PostgreSQL) or database",
        ),
        ("[bot\n", "config.toml:1: (syntax)"),
        (
            "[pins]\nedits_per_second = 26\n",
            "config.toml:2: pins.edits_per_second: must be more than 0 and at most 25 for telegram",
        ),
        (
            "[pins]\nedits_per_second = { discord = 50 }\n",
            "pins.edits_per_second.discord: must be more than 0 and at most 45 for discord",
        ),
        (
            "[pins.edits_per_second]\ntelegram = 0\n",
            "config.toml:2: pins.edits_per_second.telegram: must be more than 0",
        ),
        ("[pins]\nedits_per_second = { matrix = 5 }\n", "unknown platform; known: ['discord'"),
        ('[pins]\nedits_per_second = "fast"\n', "pins.edits_per_second: must be a number, or"),
        ('[pins]\nedits_per_second = { telegram = "10" }\n', "must be a number, not str"),
        ("[pins]\nedits_per_second = nan\n", "must be more than 0 and at most 25"),
        (
            "[discord]\nshards = 4\n",
            "config.toml:2: discord.shards: was renamed to shard_count: write shard_count",
        ),
        ("[discord]\nshard_count = 0\n", "config.toml:2: discord.shard_count: must be 1 or more"),
        ("[discord]\nshard_ids = [0]\n", "config.toml:2: discord.shard_ids: needs shard_count"),
        (
            "[discord]\nshard_count = 2\nshard_ids = [1, 2, 3]\n",
            "config.toml:3: discord.shard_ids: each must be below shard_count (2); not [2, 3]",
        ),
        ("[discord]\nshard_count = 2\nshard_ids = [1, 1]\n", "shard_ids: must list distinct"),
        ("[discord]\nshard_count = 2\nshard_ids = [-1]\n", "shard_ids: must list distinct"),
        ("[discord]\nshard_count = 2\nshard_ids = []\n", "shard_ids: must list distinct"),
        ('[discord]\nshard_count = 2\nshard_ids = ["0"]\n', "shard_ids: must be a list of int"),
        ("[discord]\nshard_count = 2\nshard_ids = 1\n", "shard_ids: must be list, not int"),
    ],
)
def test_bad_keys_and_values_name_file_line_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ProblemsError) as error:
        load_config(write(tmp_path, text), env={})
    assert expected in str(error.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {"telegram": 20, "discord": 40}),
        ("[pins]\nedits_per_second = 10\n", {"telegram": 10, "discord": 10}),
        ("[pins]\nedits_per_second = { discord = 42.5 }\n", {"telegram": 20, "discord": 42.5}),
        ("[pins.edits_per_second]\ntelegram = 25\n", {"telegram": 25, "discord": 40}),
    ],
)
def test_pin_edits_per_second_per_platform(
    tmp_path: Path, text: str, expected: dict[str, float]
) -> None:
    pins = load_config(write(tmp_path, text), env={}).pins
    assert {name: pins.rate(name) for name in expected} == expected


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, '[bot]\ndefault_region = "x"\ndefault_locale = "english"\n')
    with pytest.raises(ProblemsError) as error:
        load_config(path, env={})
    assert len(error.value.problems) == 2


def test_example_config_is_valid_and_documents_every_key() -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    load_config(example, env={})
    text = example.read_text(encoding="utf-8")
    for section, keys in schema(SECTIONS).items():
        assert f"[{section}]" in text
        for key, rule in keys.items():
            if not rule.renamed_to:
                assert f"{key} =" in text, f"{section}.{key} is not documented"


def test_discord_shards_this_process_runs(tmp_path: Path) -> None:
    from bots.discord.platform import DiscordConfig

    path = write(tmp_path, "[discord]\nshard_count = 4\nshard_ids = [2, 0]\n")
    config = load_config(path, env={}).platform("discord", DiscordConfig)
    assert (config.shard_count, config.shard_ids, config.explicit) == (4, (2, 0), True)
    default = load_config(write(tmp_path, ""), env={}).platform("discord", DiscordConfig)
    assert (default.shard_count, default.shard_ids, default.explicit) == (None, None, False)
