-- record_writes without its CHECK (json_type (fields) = 'object'),
-- migration 0014: SQLite parsed every row's fields in full to check it,
-- and a statement inserting several rows into a table with a CHECK keeps
-- a statement journal (a copy of every page it changes that was there
-- before it): some 25,000 rows, a fifth of a fresh device's village pull's
-- apply of its edits (sync-apply.c, insert_pending()).
--
-- Safe, because every writer of the table writes an object and nothing
-- else, which the CHECK only confirmed:
--   * a pull (sync-apply.c): a row's text is made in C, "{" then each
--     member (a JSON string key, a string or an array of strings, from
--     hearth_store_append_json_string()) then "}" (append_member(),
--     write_groups(), insert_pending()); a write joined to its row is
--     json_patch (fields, OBJECT), an object whatever it patches;
--   * the case store, a resolution, the backfill and 0014's trigger on
--     field_edits: json_object () for a new row, json_set () on a stored
--     one (an object stays one);
--   * sync-store.c: json_remove () and json_set () on stored rows,
--     json_group_object () when writes are joined, the version (hlc)
--     alone when a clamp moves it.
-- A row written by hand (sqlite3) is no longer refused: what is not
-- JSON fails its readers loudly (json_each: malformed JSON), and the
-- pull's reader of stored writes (record_writes_may_hold()) takes
-- anything but a plain object to SQLite's JSON.
--
-- The table is not rebuilt: the CHECK's text is taken out of
-- sqlite_schema, as SQLite's documentation of ALTER TABLE allows for
-- removing a CHECK constraint (as 0015 did for its lists); the rows are
-- as they were. The replacement is checked below (the migration fails,
-- and changes nothing, if the text was not found), the connection's
-- schema read again (writable_schema = RESET) and the schema version
-- advanced by the check table's CREATE and DROP, so that every other
-- connection reads the new text too.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace (replace (sql,
  '{"FIELD": "VALUE" | ["VALUE", "PARENTS"(, "WALL")], …}: an object, or' || char (10) ||
  '  -- the row is refused (json_set() would leave any other JSON as it is,' || char (10) ||
  '  -- and lose the field it sets).',
  '{"FIELD": "VALUE" | ["VALUE", "PARENTS"(, "WALL")], …}: an object, as' || char (10) ||
  '  -- every writer writes it (migration 0016).'),
  'fields       TEXT NOT NULL CHECK (json_type (fields) = ''object''),',
  'fields       TEXT NOT NULL,')
WHERE type = 'table' AND name = 'record_writes';

PRAGMA writable_schema = RESET;

-- The table's text holds neither the CHECK nor its old comment.
CREATE TABLE migration_0016_check (replaced INTEGER NOT NULL CHECK (replaced = 1));
INSERT INTO migration_0016_check (replaced)
  SELECT count(*) FROM sqlite_schema
  WHERE type = 'table' AND name = 'record_writes'
    AND instr (sql, 'fields       TEXT NOT NULL,') > 0 AND instr (sql, 'json_type') = 0
    AND instr (sql, 'CHECK') = 0 AND instr (sql, 'every writer writes it (migration 0016)') > 0;
DROP TABLE migration_0016_check;
