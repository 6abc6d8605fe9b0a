-- The admin API lists rules newest first, paged by a cursor on (created_at, id) (issue 20's `config
-- export` reads every page): this index serves each page from where the last one ended, where the
-- table's 1 000 000 rules would otherwise be read and sorted for every page.
CREATE INDEX rules_listing ON rules (created_at DESC, id);
