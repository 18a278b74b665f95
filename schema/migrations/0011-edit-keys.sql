-- field_edits and field_versions found by compact integer keys instead of
-- their text keys (migrations 0002 and 0006), as the center's changes are
-- (schema/center/0011-change-key.sql).
--
-- Both tables were WITHOUT ROWID, keyed by (record_table, record_id,
-- field[, hlc]): rows of some 150 bytes, ordered by a UUID, so that a
-- fresh device's pull put every edit at a random place of a large tree,
-- and each commit of its pages wrote most of both tables to the WAL again
-- (encrypted, then decrypted twice by the checkpoint): the largest part of
-- the device's time in the bench's village pull. Now the rows go to the
-- end of a rowid table, one after the other, and only a small index of
-- integers takes them at random places:
--
--   ikey = hearth_edit_key (record_table, record_id, field): 48 bits of a
--          hash of the record above 16 bits of one of the field
--          (app/store-keys.h), so a record's rows lie within
--          [hearth_edit_key (record_table, record_id, NULL), that + 65535];
--   vkey = hearth_version_key (hlc): 64 bits of a hash of the version, so
--          that an edit is found by its identity in one step.
--
-- Both are generated columns (VIRTUAL: only the indexes store them), so
-- no writer can store a wrong key, an UPDATE of hlc included. Keys are
-- where to look, never an identity: every statement compares the texts of
-- the rows it finds under a key, and what the primary keys refused (an
-- edit stored twice, a second version row of a field) the writers rule
-- out themselves: a pulled edit is looked up in its field's edits before
-- it is stored (sync-apply.c), a local one takes a new version of the
-- clock, and a field's version row is updated when it is there, inserted
-- when not (sync-apply.c, case-store.c). Every connection to the store
-- has the two functions (store.c); the migration needs them too.

-- Each table is renamed out of the way (its trigger goes with it, and is
-- made again below as it was), made again under its name, and filled.
ALTER TABLE field_edits RENAME TO field_edits_0006;
CREATE TABLE field_edits (
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  field        TEXT NOT NULL,
  hlc          TEXT NOT NULL,                -- the edit's version (sync/hlc.h)
  parents      TEXT NOT NULL DEFAULT '',     -- the versions it replaced, space-separated
  value        TEXT NOT NULL,
  wall         TEXT NOT NULL DEFAULT '',     -- its device's wall time, for display
  origin       TEXT GENERATED ALWAYS AS (substr (hlc, 26)) VIRTUAL,  -- the device that made it
  ikey         INTEGER GENERATED ALWAYS AS (hearth_edit_key (record_table, record_id, field)) VIRTUAL,
  vkey         INTEGER GENERATED ALWAYS AS (hearth_version_key (hlc)) VIRTUAL
);
INSERT INTO field_edits (record_table, record_id, field, hlc, parents, value, wall)
  SELECT record_table, record_id, field, hlc, parents, value, wall FROM field_edits_0006
  ORDER BY record_table, record_id, field, hlc;
DROP TABLE field_edits_0006;
CREATE INDEX field_edits_key ON field_edits (ikey, vkey);

CREATE TRIGGER sync_outbox_field_edits AFTER INSERT ON field_edits
WHEN NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying')
BEGIN
  INSERT INTO sync_outbox (kind, record_table, record_id, field, hlc)
    VALUES ('edit', NEW.record_table, NEW.record_id, NEW.field, NEW.hlc);
END;

ALTER TABLE field_versions RENAME TO field_versions_0002;
CREATE TABLE field_versions (
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  field        TEXT NOT NULL,
  hlc          TEXT NOT NULL,                -- the merge's winner (sync-apply.c), or this device's last write
  base_hlc     TEXT NOT NULL DEFAULT '',     -- the versions it replaced, space-separated
  ikey         INTEGER GENERATED ALWAYS AS (hearth_edit_key (record_table, record_id, field)) VIRTUAL
);
INSERT INTO field_versions (record_table, record_id, field, hlc, base_hlc)
  SELECT record_table, record_id, field, hlc, base_hlc FROM field_versions_0002
  ORDER BY record_table, record_id, field;
DROP TABLE field_versions_0002;
CREATE INDEX field_versions_key ON field_versions (ikey);
