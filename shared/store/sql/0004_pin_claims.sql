-- Which process is editing a pinned post, and until when (milliseconds since 1970): when
-- several processes refresh stale posts at once, each post is edited by the one that claimed
-- it. claimed_by is a random id a process draws at start, never a person's. A claim ends when
-- the edit is recorded or given up, or when it expires (its process was killed mid-edit).
ALTER TABLE pinned_posts ADD COLUMN claimed_by TEXT;
ALTER TABLE pinned_posts ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
