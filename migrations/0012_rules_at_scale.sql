-- Operator rules at operator scale (issue 22 item 7): a million rules, most of them one exact number.
--
-- Exact-number rules (a CLI or a called number and nothing else) are kept out of the isolate's heap as
-- objects: an isolate holds them as a packed, sorted index of numbers (src/rules/keyed-index.ts) and reads
-- a rule's details by its number only when a call hits it. The key is the number's digits behind a
-- leading 1 (so leading zeros and the length count), which stays below 2^53 for 15 digits and orders
-- like the packed index. Generated from the criteria document itself, so no write path computes it,
-- and the JSON each rule was validated into (src/rules/rule.ts) is the one definition of the criteria.
ALTER TABLE rules ADD COLUMN cli_key INTEGER GENERATED ALWAYS AS (
  CASE WHEN json_type(criteria, '$.cli.exact') = 'text' AND json_type(criteria, '$.destination') IS NULL AND json_type(criteria, '$.carrier') IS NULL
        AND json_type(criteria, '$.trunk') IS NULL AND json_type(criteria, '$.timeWindow') IS NULL
       THEN CAST('1' || json_extract(criteria, '$.cli.exact') AS INTEGER) END
) VIRTUAL;
ALTER TABLE rules ADD COLUMN destination_key INTEGER GENERATED ALWAYS AS (
  CASE WHEN json_type(criteria, '$.destination.exact') = 'text' AND json_type(criteria, '$.cli') IS NULL AND json_type(criteria, '$.carrier') IS NULL
        AND json_type(criteria, '$.trunk') IS NULL AND json_type(criteria, '$.timeWindow') IS NULL
       THEN CAST('1' || json_extract(criteria, '$.destination.exact') AS INTEGER) END
) VIRTUAL;
CREATE INDEX rules_cli_key ON rules (cli_key) WHERE cli_key IS NOT NULL;
CREATE INDEX rules_destination_key ON rules (destination_key) WHERE destination_key IS NOT NULL;
-- Every other rule is held whole; this index lets a compile page through just those.
CREATE INDEX rules_held_whole ON rules (id) WHERE cli_key IS NULL AND destination_key IS NULL;

-- The origin version (0001's origin_version) at which a rule last changed, and the rules deleted since.
-- An isolate compiles the whole rule table into a base of version B once, and on every later version
-- reads only what changed after B, so one rule added to a million costs every isolate one row, not a
-- million (src/origin/snapshot.ts).
ALTER TABLE rules ADD COLUMN changed_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX rules_changed ON rules (changed_version);
CREATE TABLE rule_tombstones (
  id TEXT PRIMARY KEY,
  changed_version INTEGER NOT NULL
);
CREATE INDEX rule_tombstones_changed ON rule_tombstones (changed_version);

-- Until when (epoch ms) one isolate holds the right to compile a new base and save it for the others
-- (ORIGIN_SNAPSHOTS in wrangler.toml), so that a rule set grown past what isolates read as changes is
-- compiled once, not by every isolate at the same moment.
ALTER TABLE origin_version ADD COLUMN base_build_until INTEGER NOT NULL DEFAULT 0;
