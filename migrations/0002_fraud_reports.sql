-- Fraud reports from subscribers and the National Bank anti-fraud centre (spec digest §2: Kazakh
-- operators must examine a complaint within two working days).
CREATE TABLE fraud_reports (
  id TEXT PRIMARY KEY,
  victim TEXT NOT NULL,              -- canonical TN of the called subscriber
  presented_cli TEXT NOT NULL,       -- canonical TN the fraudulent call presented
  call_time INTEGER NOT NULL,        -- epoch ms of the reported call
  channel TEXT NOT NULL,
  notes TEXT,
  reporter TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX fraud_reports_cli ON fraud_reports (presented_cli, created_at);
CREATE INDEX fraud_reports_created ON fraud_reports (created_at);
