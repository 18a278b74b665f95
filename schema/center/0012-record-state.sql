-- The merged state of mutable records, one row per record instead of one
-- per field (0001-center.sql, 0004-field-heads.sql, 0010-field-state-
-- key-only.sql): a visit's dozen edits of a record set its fields at one
-- place, read and written once per push (center-store-sqlite.c), where
-- each field's row was an entry put at a random place (record ids are
-- UUIDs): most of the center's SQLite time per change in the bench's
-- ingest was those rows.
--
-- state is a JSON object, a member per field: [value, cursor] or
-- [value, cursor, heads]. value is the merged value; cursor the stored
-- edit that won (its version, household and village are that row's of
-- changes: where a record is now); heads the cursors of the field's
-- heads, space-separated (0004), given only when they are other than the
-- winner alone (a field edited once, or in one chain, has no other).
-- lookup is the value the record is looked up by (sync/PROTOCOL.md
-- section 7.2, import-households, 0007-value-index.sql): a household's
-- merged registry_no, a member's id_number; NULL for other tables, for a
-- record without the field, and for a deleted one (deleted = '1'), which
-- the lookups passed over.
CREATE TABLE record_state (
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  state TEXT NOT NULL,
  lookup TEXT,
  PRIMARY KEY (tbl, record_id)
) STRICT, WITHOUT ROWID;

-- Each field's winning edit, by its identity (0011-change-key.sql). A
-- merged state is always that of a stored edit: NOT NULL fails the
-- migration rather than losing a field if one is not.
CREATE TABLE field_winner (
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  cursor INTEGER NOT NULL,
  heads TEXT NOT NULL,
  PRIMARY KEY (tbl, record_id, field)
) STRICT, WITHOUT ROWID;
INSERT INTO field_winner (tbl, record_id, field, value, cursor, heads)
  SELECT f.tbl, f.record_id, f.field, f.value, (
    SELECT c.cursor FROM changes c INDEXED BY changes_by_key
    WHERE c.ikey = hearth_change_key (f.tbl, f.record_id, f.field) AND c.vkey = hearth_version_key (f.hlc)
      AND c.kind = 'edit' AND c.tbl = f.tbl AND c.record_id = f.record_id AND c.field = f.field AND c.hlc = f.hlc),
    f.heads
  FROM field_state f;

INSERT INTO record_state (tbl, record_id, state)
  SELECT tbl, record_id, json_group_object (field, CASE WHEN heads = CAST (cursor AS TEXT)
                                                        THEN json_array (value, cursor)
                                                        ELSE json_array (value, cursor, heads) END)
  FROM field_winner GROUP BY tbl, record_id;
UPDATE record_state SET lookup = (
  SELECT w.value FROM field_winner w
  WHERE w.tbl = record_state.tbl AND w.record_id = record_state.record_id
    AND w.field = CASE record_state.tbl WHEN 'households' THEN 'registry_no' ELSE 'id_number' END
    AND NOT EXISTS (SELECT 1 FROM field_winner d WHERE d.tbl = w.tbl AND d.record_id = w.record_id
                    AND d.field = 'deleted' AND d.value = '1'))
  WHERE tbl = 'households' OR tbl = 'members';
DROP TABLE field_winner;
DROP TABLE field_state;

-- The lookups by value (the two partial indexes of 0007 in one): a
-- record's entry moves only when its looked-up value does.
CREATE INDEX record_state_by_lookup ON record_state (tbl, lookup) WHERE lookup IS NOT NULL;

-- The merged state a field at a time, as field_state held it, for people
-- and tests reading the store with sqlite3 (the center reads record_state
-- itself; with its trusted_schema = OFF, SQLite's JSON functions may not
-- be used through a view).
CREATE VIEW field_state (tbl, record_id, field, value, hlc, heads) AS
  SELECT r.tbl, r.record_id, j.key, j.value ->> 0, c.hlc, coalesce (j.value ->> 2, CAST (j.value ->> 1 AS TEXT))
  FROM record_state r, json_each (r.state) j LEFT JOIN changes c ON c.cursor = j.value ->> 1;
