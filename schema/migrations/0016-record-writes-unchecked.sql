-- record_writes without its CHECK (json_type (fields) = 'object'),
-- migration 0014: SQLite parsed every row's fields in full to check it,
-- and a statement inserting several rows into a table with a CHECK keeps
-- a statement journal (a copy of every page it changes that was there
-- before it): some 25,000 rows, a fifth of a fresh device's village pull's
-- apply of its edits (sync-apply.c, insert_pending()).
--
-- What the CHECK guarded is kept by a trigger instead: a row whose fields
-- are not a JSON object cannot be changed. json_set () and json_remove ()
-- leave any other JSON as it is, so without it an edit put through the
-- field_edits view (its trigger's UPDATE), hearth_sync_put_edit () or
-- hearth_sync_remove_edit () on such a row would be lost without a word;
-- json_patch () and json_group_object () (a pull's write joined to its
-- row, a parent renamed) would replace it. Refused, the statement and its
-- caller fail loudly instead. A pull applies its pages with the triggers
-- off: it refuses such a row itself before it joins a write to it
-- (sync-apply.c, stored_write ()). An UPDATE is rare (a write's field written
-- again on the device, or a write pulled again), an INSERT is the pull's
-- every write: the trigger looks at the row being changed only, and the
-- inserts are not checked:
--   * a pull (sync-apply.c) makes a row's text in C, "{" then each member
--     (a JSON string key, a string or an array of strings, from
--     hearth_store_append_json_string ()) then "}" (append_member (),
--     write_groups (), insert_pending ());
--   * the case store, a resolution, the backfill and 0014's trigger on
--     field_edits, and hearth_sync_put_edit (), insert json_object ().
-- A row that is not an object can only be written by hand (sqlite3): it
-- is stored, its readers fail loudly when it is not JSON (json_each:
-- malformed JSON), and every writer that would change it is refused.
--
-- The table is not rebuilt: the CHECK's text is taken out of
-- sqlite_schema, as SQLite's documentation of ALTER TABLE allows for
-- removing a CHECK constraint (as 0015 did for its lists); the rows are
-- as they were. The replacement is checked below (the migration fails,
-- and changes nothing, if the text was not found), the connection's
-- schema read again (writable_schema = RESET) and the schema version
-- advanced by the check table's CREATE and DROP (and the trigger's), so
-- that every other connection reads the new text too.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace (replace (sql,
  '{"FIELD": "VALUE" | ["VALUE", "PARENTS"(, "WALL")], …}: an object, or' || char (10) ||
  '  -- the row is refused (json_set() would leave any other JSON as it is,' || char (10) ||
  '  -- and lose the field it sets).',
  '{"FIELD": "VALUE" | ["VALUE", "PARENTS"(, "WALL")], …}: an object, as' || char (10) ||
  '  -- every writer writes it; one that is not cannot be changed (migration 0016).'),
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
    AND instr (sql, 'CHECK') = 0 AND instr (sql, 'cannot be changed (migration 0016)') > 0;
DROP TABLE migration_0016_check;

-- A row whose fields are not a JSON object is refused by every statement
-- that would change them (json_valid () first: json_type () of text that
-- is not JSON fails with SQLite's own "malformed JSON", not this message).
CREATE TRIGGER record_writes_object BEFORE UPDATE OF fields ON record_writes
WHEN CASE WHEN json_valid (OLD.fields) THEN json_type (OLD.fields) END IS NOT 'object'
BEGIN
  SELECT RAISE (ABORT, 'a write''s stored fields are not a JSON object: it cannot be changed (record_writes)');
END;

-- Nor may a statement make an object's fields something else (a json_patch
-- () whose patch is not an object returns the patch, a replace by hand):
-- the row would then refuse every later change. Only an UPDATE is looked
-- at (a write's fields written again, rare); the pull's inserts are not.
-- A row that is not an object already is the trigger above's alone.
CREATE TRIGGER record_writes_object_kept BEFORE UPDATE OF fields ON record_writes
WHEN CASE WHEN json_valid (OLD.fields) THEN json_type (OLD.fields) END IS 'object'
  AND CASE WHEN json_valid (NEW.fields) THEN json_type (NEW.fields) END IS NOT 'object'
BEGIN
  SELECT RAISE (ABORT, 'a write''s fields must stay a JSON object (record_writes)');
END;
