-- Advice a moderator asked the bot to post and pin, with the content version it showed,
-- so stale posts can be found and re-rendered.
CREATE TABLE pinned_posts (
    platform TEXT NOT NULL,
    community_id TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    topic TEXT NOT NULL,
    content_version TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (platform, community_id, channel_id, message_id)
) WITHOUT ROWID;

CREATE INDEX pinned_posts_by_topic ON pinned_posts (platform, community_id, topic);
