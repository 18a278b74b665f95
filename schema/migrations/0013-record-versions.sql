-- Field versions kept one row per record instead of one per field
-- (0002-case-model.sql, 0011-edit-keys.sql), as the center keeps its
-- merged state (schema/center/0012-record-state.sql): a fresh device's
-- village pull wrote some 65,000 rows of field_versions (each the
-- record's table and id, the field's name and its version again) and as
-- many entries of their index; every page of them costs its encryption
-- and its B-tree work (docs/operations.md).
--
-- versions is a JSON object whose keys are versions, each naming the
-- fields that have it: {"VERSION": ["FIELD", …], "VERSION BASE…": […]}:
-- a key is a field's version (the merge's winner, sync-apply.c, or this
-- device's last write, case-store.c), as field_versions.hlc held it, then
-- the versions it replaced (field_versions.base_hlc, space-separated)
-- when it replaced any; a version has no space (sync/hlc.c). The fields
-- of one write share a key: a version is written once a write, not once
-- a field. A record with no field version has no row. Writers and
-- readers use hearth_field_version(), hearth_field_base() and
-- hearth_set_field_version() (app/store-keys.h).
--
-- rkey is the record's key, hearth_edit_key (record_table, record_id,
-- NULL) (app/store-keys.h): where to look, never an identity, as in
-- 0011; the writers compare the texts of the rows found under it and
-- keep one row a record (sync-apply.c, case-store.c, sync-capture.c,
-- sync-duplicate.c).
CREATE TABLE record_versions (
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  versions     TEXT NOT NULL,             -- {"VERSION[ BASE…]": ["FIELD", …], …}
  rkey         INTEGER GENERATED ALWAYS AS (hearth_edit_key (record_table, record_id, NULL)) VIRTUAL
);
INSERT INTO record_versions (record_table, record_id, versions)
  SELECT record_table, record_id, json_group_object (k, json (fields))
  FROM (SELECT record_table, record_id, hlc || CASE WHEN base_hlc <> '' THEN ' ' || base_hlc ELSE '' END AS k,
               json_group_array (field) AS fields
        FROM (SELECT * FROM field_versions ORDER BY record_table, record_id, hlc, base_hlc, field)
        GROUP BY record_table, record_id, k)
  GROUP BY record_table, record_id
  ORDER BY hearth_edit_key (record_table, record_id, NULL);
DROP TABLE field_versions;
CREATE INDEX record_versions_key ON record_versions (rkey);

-- The versions a field at a time, as field_versions held them, for
-- people and tests reading the store with sqlite3 (and the backfill of
-- migration 0006, sync-capture.c). Writers write record_versions.
CREATE VIEW field_versions (record_table, record_id, field, hlc, base_hlc) AS
  SELECT v.record_table, v.record_id, f.value,
         substr (k.key, 1, instr (k.key || ' ', ' ') - 1), substr (k.key, instr (k.key || ' ', ' ') + 1)
  FROM record_versions v, json_each (v.versions) k, json_each (k.value) f;
