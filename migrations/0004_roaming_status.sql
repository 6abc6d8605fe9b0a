-- Roaming status table for operators without a live HLR/HSS or CAMARA feed (and for tests),
-- maintained through the admin API (src/origin/roaming/table-lookup.ts).
CREATE TABLE roaming_status (
  tn TEXT PRIMARY KEY,
  status TEXT NOT NULL CHECK (status IN ('roaming', 'home', 'not-mobile')),
  visited_country TEXT,
  observed_at INTEGER NOT NULL       -- epoch ms
);
