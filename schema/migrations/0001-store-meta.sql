-- The store's own facts: when and by which Hearth it was created, and
-- settings that later layers keep beside their data. Values are text.
CREATE TABLE store_meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO store_meta (key, value) VALUES
  ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
