-- Per-community settings. A community is a Discord server or Telegram group; never a person.
CREATE TABLE community_settings (
    platform TEXT NOT NULL,
    community_id TEXT NOT NULL,
    region TEXT,
    language TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (platform, community_id)
) WITHOUT ROWID;

-- Small operator state, such as the hash of the last synced command list.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
