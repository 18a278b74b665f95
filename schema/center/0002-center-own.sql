-- The center's own changes, published records and exports
-- (sync/PROTOCOL.md sections 6.2, 9 and 10; sync/center-publish.c,
-- sync/center-export.c).
--
-- The center makes changes of its own: the households and members of a
-- registry imported at the center (`hearth-center import-households`),
-- and the forms and thresholds it publishes. They are stored and pulled
-- like a device's, under the device id 'center': not a UUID, so no request
-- can ever authenticate as it, and no row of devices. changes is rebuilt
-- for that: device_id no longer references devices, and the immutable
-- records 'forms' and 'thresholds', which belong to no household, are
-- stored without household and village (every device pulls them).

-- push_outcomes refers to changes while it is rebuilt; the references are
-- whole again when the rows are back, before the migration commits.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE changes_copy AS SELECT * FROM changes;
DROP TABLE changes;

-- As in 0001-center.sql but for device_id ('center', or a device's id) and
-- the records without a household.
CREATE TABLE changes (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('edit', 'record')),
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT,
  hlc TEXT,
  parents TEXT,
  household TEXT,
  village TEXT,
  value TEXT,
  fields TEXT,
  wall TEXT,
  received_at INTEGER NOT NULL,
  UNIQUE (device_id, seq),
  CHECK (kind = 'record' OR (field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL
                             AND value IS NOT NULL AND fields IS NULL)),
  CHECK (kind = 'edit' OR (fields IS NOT NULL AND field IS NULL AND hlc IS NULL AND value IS NULL)),
  CHECK (tbl IN ('audit', 'forms', 'thresholds') OR (household IS NOT NULL AND village IS NOT NULL)),
  CHECK (tbl NOT IN ('forms', 'thresholds') OR (kind = 'record' AND household IS NULL AND village IS NULL
                                                 AND device_id = 'center'))
) STRICT;
INSERT INTO changes SELECT * FROM changes_copy;
DROP TABLE changes_copy;

CREATE UNIQUE INDEX changes_edit_identity ON changes (tbl, record_id, field, hlc) WHERE kind = 'edit';
CREATE UNIQUE INDEX changes_record_identity ON changes (tbl, record_id) WHERE kind = 'record';
CREATE INDEX changes_by_village ON changes (village, cursor);
-- Exports select by receipt time (the county's dates) and table.
CREATE INDEX changes_by_received ON changes (tbl, received_at);

-- The center's own numbering: the last seq it gave one of its changes and
-- the last version (sync/hlc.h, device 'center') it issued, so a version
-- is never issued twice, whatever the wall clock does.
CREATE TABLE center_own (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  last_seq INTEGER NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
  last_hlc TEXT
) STRICT;
INSERT INTO center_own (only_row) VALUES (1);

-- A registry imported at the center is checked against the households and
-- members the center has: registry numbers and ID numbers by value.
CREATE INDEX field_state_by_value ON field_state (tbl, field, value);
