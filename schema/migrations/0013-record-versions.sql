-- Field versions kept one row per record instead of one per field
-- (0002-case-model.sql, 0011-edit-keys.sql), as the center keeps its
-- merged state (schema/center/0012-record-state.sql): a fresh device's
-- village pull wrote some 65,000 rows of field_versions (each the
-- record's table and id, the field's name and its version again) and as
-- many entries of their index; every page of them costs its encryption
-- and its B-tree work (docs/operations.md).
--
-- versions is a JSON object, a member per field with a version: the
-- field's version (the merge's winner, sync-apply.c, or this device's
-- last write, case-store.c), as field_versions.hlc held it. bases holds
-- the versions that one replaced (field_versions.base_hlc, space-
-- separated), a member per field that has any, NULL when no field has:
-- a pulled record's fields have none. A record with no field version has
-- no row. The fields are the tables' own column names.
--
-- rkey is the record's key, hearth_edit_key (record_table, record_id,
-- NULL) (app/store-keys.h): where to look, never an identity, as in
-- 0011; the writers compare the texts of the rows found under it and
-- keep one row a record (sync-apply.c, case-store.c, sync-capture.c,
-- sync-duplicate.c).
CREATE TABLE record_versions (
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  versions     TEXT NOT NULL,             -- {"FIELD": "VERSION", …}
  bases        TEXT,                      -- {"FIELD": "VERSION VERSION", …}, or NULL
  rkey         INTEGER GENERATED ALWAYS AS (hearth_edit_key (record_table, record_id, NULL)) VIRTUAL
);
INSERT INTO record_versions (record_table, record_id, versions, bases)
  SELECT record_table, record_id, json_group_object (field, hlc),
         nullif (json_group_object (field, base_hlc) FILTER (WHERE base_hlc <> ''), '{}')
  FROM (SELECT * FROM field_versions ORDER BY record_table, record_id, field)
  GROUP BY record_table, record_id
  ORDER BY hearth_edit_key (record_table, record_id, NULL);
DROP TABLE field_versions;
CREATE INDEX record_versions_key ON record_versions (rkey);

-- The versions a field at a time, as field_versions held them, for
-- people and tests reading the store with sqlite3 (and the backfill of
-- migration 0006, sync-capture.c). Writers write record_versions.
CREATE VIEW field_versions (record_table, record_id, field, hlc, base_hlc) AS
  SELECT v.record_table, v.record_id, j.key, j.value, coalesce (v.bases ->> j.fullkey, '')
  FROM record_versions v, json_each (v.versions) j;
