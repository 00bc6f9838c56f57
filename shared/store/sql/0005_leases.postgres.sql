-- PostgreSQL version of 0005_leases.sql (no WITHOUT ROWID; until as BIGINT: milliseconds
-- since 1970 outgrow INTEGER).
CREATE TABLE leases (
    lease TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL
);
