-- PostgreSQL version of 0004_pin_claims.sql: claimed_until as BIGINT (milliseconds since 1970
-- outgrow INTEGER).
ALTER TABLE pinned_posts ADD COLUMN claimed_by TEXT;
ALTER TABLE pinned_posts ADD COLUMN claimed_until BIGINT NOT NULL DEFAULT 0;
