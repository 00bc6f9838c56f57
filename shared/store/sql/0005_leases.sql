-- Fleet-wide leases: each lease (such as pins:telegram, the refresh of a platform's pinned posts)
-- held by one process at a time until a moment (milliseconds since 1970), so that processes
-- sharing a platform's rate limit take turns at work that spends it. holder is a random id a
-- process draws at start, never a person's. A lease ends when its holder drops it, or when
-- it expires (its holder was killed, or stopped renewing).
CREATE TABLE leases (
    lease TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    until INTEGER NOT NULL
) WITHOUT ROWID;
