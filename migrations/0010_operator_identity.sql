-- Who acts on operator data, and writes that can be retried safely (issue 22 items 9, 10, 12).

-- The audit log's actor is the authenticated operator (a named token or a Cloudflare Access identity);
-- a name the client gives is kept beside it, as its own account, never in its place.
ALTER TABLE audit_log ADD COLUMN author TEXT;

-- Roaming entries are versioned like rules and configuration: a write names the version it replaces.
ALTER TABLE roaming_status ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- Responses to creates sent with an Idempotency-Key (draft-ietf-httpapi-idempotency-key-header), per
-- operator, route and key, kept for a day. A row without a status is a request still being handled.
CREATE TABLE idempotency_keys (
  scope TEXT PRIMARY KEY,            -- operator, method, path and key
  fingerprint TEXT NOT NULL,         -- SHA-256 of the request body: the same key with another body is refused
  claimed_at INTEGER NOT NULL,       -- epoch ms
  status INTEGER,                    -- the response, once the create committed
  body TEXT,
  etag TEXT
);
CREATE INDEX idempotency_keys_claimed ON idempotency_keys (claimed_at);
