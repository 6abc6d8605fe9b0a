-- Operator blocking rules (issue 4, "Operator rules"): what analysts add after subscriber reports.
-- Criteria are stored as one JSON document so a rule can combine CLI, destination, ingress and time
-- window; the verdict path compiles every rule into an in-memory matcher (src/rules/matcher.ts).
CREATE TABLE rules (
  id TEXT PRIMARY KEY,
  criteria TEXT NOT NULL,            -- JSON: RuleCriteria
  action TEXT NOT NULL CHECK (action IN ('allow', 'tag', 'withhold', 'block')),
  reason TEXT NOT NULL,
  label TEXT,
  author TEXT NOT NULL,
  expires_at INTEGER,                -- epoch ms; the rule stops matching at this instant
  report_id TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Every change to a rule or to the operator configuration: who, when, before, after.
CREATE TABLE audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  entity TEXT NOT NULL,              -- 'rule' | 'config' | 'roaming'
  entity_id TEXT NOT NULL,
  operation TEXT NOT NULL,           -- 'create' | 'update' | 'expire' | 'delete'
  before TEXT,                       -- JSON or NULL
  after TEXT                         -- JSON or NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, seq);

-- One row whose counter moves on every change the verdict path caches (rules, configuration).
-- Isolates compare it every few seconds instead of reloading everything (src/origin/snapshot.ts).
CREATE TABLE origin_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO origin_version (id, version) VALUES (1, 0);
