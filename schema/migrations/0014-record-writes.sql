-- Edits kept one row a write instead of one a field (0011-edit-keys.sql),
-- as the field versions are kept one row a record (0013): a fresh
-- device's village pull wrote some 60,000 rows of field_edits (each the
-- record's table and id, its version and wall time again, for every
-- field of a write) and as many entries of their index, the largest
-- table of the store; every page costs its encryption and its B-tree
-- work (docs/operations.md).
--
-- A row is a write: the record, the write's version (hlc), its device's
-- wall time, and its fields as one JSON object, a member a field:
--
--   {"FIELD": "VALUE", "FIELD": ["VALUE", "PARENTS"], "FIELD": ["VALUE", "PARENTS", "WALL"], …}
--
-- a field's value alone when the edit replaced no version and has the
-- write's wall time (most edits: a record's first write, and every field
-- of a write whose field had one head); with the versions it replaced,
-- space-separated, when it replaced any; with a wall time of its own
-- when it differs from the row's (edits of one version pulled field by
-- field from an older center, each with its own). Every value is a JSON
-- string. The fields of a write share its row's version and wall time:
-- they are written once a write, not once a field.
--
-- rkey is the record's key, hearth_edit_key (record_table, record_id,
-- NULL), and vkey the version's, hearth_version_key (hlc) (app/store-keys.h):
-- where to look, never an identity, as in 0011; every statement compares
-- the texts of the rows found under them, and the writers keep one row a
-- write (sync-apply.c, sync-store.c, sync-duplicate.c, and the trigger
-- below).
CREATE TABLE record_writes (
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  hlc          TEXT NOT NULL,                -- the write's version (sync/hlc.h)
  wall         TEXT NOT NULL DEFAULT '',     -- its device's wall time, for display
  -- {"FIELD": "VALUE" | ["VALUE", "PARENTS"(, "WALL")], …}: an object, or
  -- the row is refused (json_set() would leave any other JSON as it is,
  -- and lose the field it sets).
  fields       TEXT NOT NULL CHECK (json_type (fields) = 'object'),
  origin       TEXT GENERATED ALWAYS AS (substr (hlc, 26)) VIRTUAL,  -- the device that made it
  rkey         INTEGER GENERATED ALWAYS AS (hearth_edit_key (record_table, record_id, NULL)) VIRTUAL,
  vkey         INTEGER GENERATED ALWAYS AS (hearth_version_key (hlc)) VIRTUAL
);

-- A write's wall time is the earliest of its fields' (they are one
-- write's, so the same but for edits pulled from an older center); a
-- field whose time differs keeps its own. Rows in the order of their
-- index's keys, as 0013's.
INSERT INTO record_writes (record_table, record_id, hlc, wall, fields)
  SELECT record_table, record_id, hlc, w,
         json_group_object (field, CASE WHEN wall IS NOT w THEN json_array (value, parents, wall)
                                        WHEN parents <> '' THEN json_array (value, parents)
                                        ELSE value END)
  FROM (SELECT record_table, record_id, field, hlc, parents, value, wall,
               min (wall) OVER (PARTITION BY record_table, record_id, hlc) AS w
        FROM field_edits ORDER BY record_table, record_id, hlc, field)
  GROUP BY record_table, record_id, hlc
  ORDER BY hearth_edit_key (record_table, record_id, NULL), hearth_version_key (hlc);
DROP TABLE field_edits;
CREATE INDEX record_writes_key ON record_writes (rkey, vkey);

-- The edits a field at a time, as field_edits held them, for people and
-- tests reading the store with sqlite3, and for the readers that look
-- for one field's edits: found by the record's key (rkey) and, for one
-- write, the version's (vkey), through record_writes' index.
CREATE VIEW field_edits (record_table, record_id, field, hlc, parents, value, wall, origin, rkey, vkey) AS
  SELECT w.record_table, w.record_id, f.key, w.hlc,
         CASE f.type WHEN 'array' THEN f.value ->> 1 ELSE '' END,
         CASE f.type WHEN 'array' THEN f.value ->> 0 ELSE f.value END,
         CASE WHEN f.type = 'array' AND json_array_length (f.value) > 2 THEN f.value ->> 2 ELSE w.wall END,
         w.origin, w.rkey, w.vkey
  FROM record_writes AS w, json_each (w.fields) AS f;

-- An edit inserted into the view joins its write's row (the one of its
-- record and version, made at its first field), and the write is
-- numbered in the outbox as migration 0012's trigger on the table did:
-- once a write when sync_state holds 'outbox_edits', else once a field,
-- and not while pulled changes are applied. A field given again replaces
-- its member. The case store's writes (sync-capture.c), a resolution
-- (sync-apply.c) and the backfill of 0006 insert here; a pull writes
-- record_writes itself, a write at a time (sync-apply.c).
CREATE TRIGGER sync_outbox_field_edits INSTEAD OF INSERT ON field_edits
BEGIN
  SELECT RAISE (ABORT, 'an edit needs its record, field, version and value')
  WHERE NEW.record_table IS NULL OR NEW.record_id IS NULL OR NEW.field IS NULL OR NEW.hlc IS NULL
     OR NEW.value IS NULL;
  UPDATE record_writes
  SET fields = json_set (fields, '$."' || NEW.field || '"',
                         json (CASE WHEN coalesce (NEW.wall, '') IS NOT wall
                                    THEN json_array (NEW.value, coalesce (NEW.parents, ''), coalesce (NEW.wall, ''))
                                    WHEN coalesce (NEW.parents, '') <> '' THEN json_array (NEW.value, NEW.parents)
                                    ELSE json_quote (NEW.value) END))
  WHERE rkey = hearth_edit_key (NEW.record_table, NEW.record_id, NULL) AND vkey = hearth_version_key (NEW.hlc)
    AND record_table = NEW.record_table AND record_id = NEW.record_id AND hlc = NEW.hlc;
  INSERT INTO record_writes (record_table, record_id, hlc, wall, fields)
  SELECT NEW.record_table, NEW.record_id, NEW.hlc, coalesce (NEW.wall, ''),
         json_object (NEW.field, CASE WHEN coalesce (NEW.parents, '') <> '' THEN json_array (NEW.value, NEW.parents)
                                      ELSE NEW.value END)
  WHERE NOT EXISTS (SELECT 1 FROM record_writes
                    WHERE rkey = hearth_edit_key (NEW.record_table, NEW.record_id, NULL)
                      AND vkey = hearth_version_key (NEW.hlc) AND record_table = NEW.record_table
                      AND record_id = NEW.record_id AND hlc = NEW.hlc);
  INSERT OR IGNORE INTO sync_outbox (kind, record_table, record_id, field, hlc)
    SELECT iif (grouped, 'edits', 'edit'), NEW.record_table, NEW.record_id, iif (grouped, NULL, NEW.field), NEW.hlc
    FROM (SELECT EXISTS (SELECT 1 FROM sync_state WHERE key = 'outbox_edits') AS grouped)
    WHERE NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying');
END;

-- An edit's value, parents or wall time changed through the view (people
-- with sqlite3, and tests, as field_edits let them): its member of its
-- write's row. Its record, field and version are its identity: changing
-- them is refused, not ignored.
CREATE TRIGGER field_edits_update INSTEAD OF UPDATE ON field_edits
BEGIN
  SELECT RAISE (ABORT, 'an edit''s record, field and version cannot change: write another edit')
  WHERE NEW.record_table IS NOT OLD.record_table OR NEW.record_id IS NOT OLD.record_id
     OR NEW.field IS NOT OLD.field OR NEW.hlc IS NOT OLD.hlc OR NEW.value IS NULL;
  UPDATE record_writes
  SET fields = json_set (fields, '$."' || OLD.field || '"',
                         json (CASE WHEN coalesce (NEW.wall, '') IS NOT wall
                                    THEN json_array (NEW.value, coalesce (NEW.parents, ''), coalesce (NEW.wall, ''))
                                    WHEN coalesce (NEW.parents, '') <> '' THEN json_array (NEW.value, NEW.parents)
                                    ELSE json_quote (NEW.value) END))
  WHERE rkey = OLD.rkey AND vkey = OLD.vkey AND record_table = OLD.record_table AND record_id = OLD.record_id
    AND hlc = OLD.hlc;
END;
