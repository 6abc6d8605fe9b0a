-- A rule may name a phrase of the caller's display name (src/rules/name-phrase.ts). An exact-number
-- rule is kept in the packed index only when its number is its one criterion; 0012 said so by listing
-- the other criteria, which a new one would have slipped past: a rule on a number *and* a name would have
-- been indexed as the number alone, and blocked every call from it. The keys now say "nothing but the
-- number" (the criteria document without it is empty), whatever criteria come later.
DROP INDEX rules_cli_key;
DROP INDEX rules_destination_key;
DROP INDEX rules_held_whole;
ALTER TABLE rules DROP COLUMN cli_key;
ALTER TABLE rules DROP COLUMN destination_key;
ALTER TABLE rules ADD COLUMN cli_key INTEGER GENERATED ALWAYS AS (
  CASE WHEN json_type(criteria, '$.cli.exact') = 'text' AND json_remove(criteria, '$.cli') = '{}'
       THEN CAST('1' || json_extract(criteria, '$.cli.exact') AS INTEGER) END
) VIRTUAL;
ALTER TABLE rules ADD COLUMN destination_key INTEGER GENERATED ALWAYS AS (
  CASE WHEN json_type(criteria, '$.destination.exact') = 'text' AND json_remove(criteria, '$.destination') = '{}'
       THEN CAST('1' || json_extract(criteria, '$.destination.exact') AS INTEGER) END
) VIRTUAL;
CREATE INDEX rules_cli_key ON rules (cli_key) WHERE cli_key IS NOT NULL;
CREATE INDEX rules_destination_key ON rules (destination_key) WHERE destination_key IS NOT NULL;
CREATE INDEX rules_held_whole ON rules (id) WHERE cli_key IS NULL AND destination_key IS NULL;
