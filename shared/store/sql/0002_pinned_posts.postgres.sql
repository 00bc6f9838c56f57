-- PostgreSQL version of 0002_pinned_posts.sql (no WITHOUT ROWID; updated_at as BIGINT).
CREATE TABLE pinned_posts (
    platform TEXT NOT NULL,
    community_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    content_version TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (platform, community_id, channel_id, message_id)
);

CREATE INDEX pinned_posts_by_topic ON pinned_posts (platform, community_id, topic);
