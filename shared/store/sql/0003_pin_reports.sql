-- Whether the moderators of a community were told that the bot may no longer edit a pinned
-- post: they are told once, and the flag is cleared when an edit succeeds again.
ALTER TABLE pinned_posts ADD COLUMN reported INTEGER NOT NULL DEFAULT 0;
