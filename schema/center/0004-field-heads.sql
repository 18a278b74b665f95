-- The heads of every field (sync/PROTOCOL.md section 6.3, rule 1): the
-- edits no stored edit of the same field names as a parent, kept with the
-- field's merged state as edits arrive (their cursors, space-separated),
-- so that a push merges a field from its few heads instead of reading
-- (and parsing) every edit the field ever had, which grew with each edit
-- of it (review finding H5). Parents are stored before the edits that
-- name them (section 7), so an edit is a head when it arrives and stops
-- being one when an edit naming it arrives.
ALTER TABLE field_state ADD COLUMN heads TEXT NOT NULL DEFAULT '';

UPDATE field_state SET heads = coalesce ((
  SELECT group_concat (cursor, ' ') FROM (
    SELECT c.cursor FROM changes c
    WHERE c.kind = 'edit' AND c.tbl = field_state.tbl AND c.record_id = field_state.record_id
      AND c.field = field_state.field AND NOT EXISTS (
        SELECT 1 FROM changes d WHERE d.kind = 'edit' AND d.tbl = c.tbl AND d.record_id = c.record_id
          AND d.field = c.field AND instr (d.parents, '"' || c.hlc || '"') > 0)
    ORDER BY c.cursor)), '');

-- The versions edits name as parents that the center does not hold (a
-- parent the device never sent, like the version a store used before sync
-- replaced): an edit arriving under one of them would come after an edit
-- naming it, which section 7 refuses. With it, whether a stored edit names
-- a version is known without reading the field's edits.
CREATE TABLE field_dangling (
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT NOT NULL,
  hlc TEXT NOT NULL,
  PRIMARY KEY (tbl, record_id, field, hlc)
) STRICT, WITHOUT ROWID;

INSERT OR IGNORE INTO field_dangling (tbl, record_id, field, hlc)
  SELECT c.tbl, c.record_id, c.field, j.value FROM changes c, json_each (c.parents) j
  WHERE c.kind = 'edit' AND NOT EXISTS (
    SELECT 1 FROM changes d WHERE d.kind = 'edit' AND d.tbl = c.tbl AND d.record_id = c.record_id
      AND d.field = c.field AND d.hlc = j.value);
