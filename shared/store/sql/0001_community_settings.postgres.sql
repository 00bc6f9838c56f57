-- PostgreSQL version of 0001_community_settings.sql: no WITHOUT ROWID (tables there are
-- heaps anyway), and updated_at as BIGINT (seconds since 1970 outgrow INTEGER in 2038).
CREATE TABLE community_settings (
    platform TEXT NOT NULL,
    community_id TEXT NOT NULL,
    region TEXT,
    language TEXT,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (platform, community_id)
);

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
