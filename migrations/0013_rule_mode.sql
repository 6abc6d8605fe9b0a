-- Monitor mode (issue 20): a monitored rule matches and is counted, and the verdict lists it under
-- `monitored`, but its action is not enforced. Every rule written before is enforced.
ALTER TABLE rules ADD COLUMN mode TEXT NOT NULL DEFAULT 'enforce' CHECK (mode IN ('enforce', 'monitor'));
