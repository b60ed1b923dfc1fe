-- [beyond] interactive.md: a run's permission mode ('auto' as before, or 'approval'), its rules as
-- given (JSON), and the model it asked for.
ALTER TABLE runs ADD COLUMN permission_mode TEXT NOT NULL DEFAULT 'auto' CHECK (permission_mode IN ('auto','approval'));
ALTER TABLE runs ADD COLUMN permissions_json TEXT;
ALTER TABLE runs ADD COLUMN model TEXT;
