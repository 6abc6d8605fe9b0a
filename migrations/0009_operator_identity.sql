-- Who acts on operator data (issue 22 item 10).

-- The audit log's actor is the authenticated operator (a named token or a Cloudflare Access identity);
-- a name the client gives is kept beside it, as its own account, never in its place.
ALTER TABLE audit_log ADD COLUMN author TEXT;

