-- Operator configuration the origin checks read: ingress map, numbering overrides, DNO list,
-- authorised-use allow-list, policy table, roaming source. One JSON document per section, versioned
-- for optimistic concurrency (src/origin/config/).
CREATE TABLE operator_config (
  section TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
);
