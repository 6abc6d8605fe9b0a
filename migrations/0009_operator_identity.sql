-- Who acts on operator data (issue 22 items 9, 10).

-- The audit log's actor is the authenticated operator (a named token or a Cloudflare Access identity);
-- a name the client gives is kept beside it, as its own account, never in its place.
ALTER TABLE audit_log ADD COLUMN author TEXT;

-- Roaming entries are versioned like rules and configuration: a write names the version it replaces.
ALTER TABLE roaming_status ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

