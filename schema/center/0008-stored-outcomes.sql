-- A push's outcomes (sync/PROTOCOL.md section 7) without a row for each
-- change stored as pushed, the most of them: such a change is its own
-- outcome, found by its device and number (the unique key of changes)
-- with its cursor and the digest of what it held as pushed (as
-- push_outcomes.digest, 0003-push-digest.sql), in a new column of
-- changes. push_outcomes keeps the other outcomes (refused, clamped, a
-- repeat of a stored change) and every outcome recorded before this
-- migration. digest is NULL for the center's own changes and for changes
-- stored before.
--
-- changes is rebuilt for it, as in 0006-divisions.sql (its rows, indexes
-- and AUTOINCREMENT counter kept), with its CHECKs written without IN
-- lists: SQLite evaluates an IN list of more than two constants through
-- an ephemeral table, which a CHECK built anew for every row inserted,
-- two of them per change (a tenth of the center's time per change in the
-- bench's ingest). The constraints are those of 0006.

PRAGMA defer_foreign_keys = ON;
-- Dropping changes checks each row against the outcomes that refer to
-- it, and putting it back again: by an index, not a scan of every
-- outcome for every change.
CREATE INDEX push_outcomes_by_cursor ON push_outcomes (cursor);

CREATE TABLE changes_seq AS SELECT seq FROM sqlite_sequence WHERE name = 'changes';
CREATE TABLE changes_copy AS SELECT * FROM changes;
DROP TABLE changes;

CREATE TABLE changes (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind = 'edit' OR kind = 'record'),
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
  digest TEXT CHECK (digest IS NULL OR length (digest) = 64),
  UNIQUE (device_id, seq),
  CHECK (kind = 'record' OR (field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL
                             AND value IS NOT NULL AND fields IS NULL)),
  CHECK (kind = 'edit' OR (fields IS NOT NULL AND field IS NULL AND hlc IS NULL AND value IS NULL)),
  CHECK (tbl = 'audit' OR tbl = 'forms' OR tbl = 'thresholds' OR tbl = 'divisions'
         OR (household IS NOT NULL AND village IS NOT NULL)),
  CHECK ((tbl <> 'forms' AND tbl <> 'thresholds' AND tbl <> 'divisions')
         OR (kind = 'record' AND household IS NULL AND village IS NULL AND device_id = 'center'))
) STRICT;
INSERT INTO changes (cursor, device_id, seq, kind, tbl, record_id, field, hlc, parents, household, village, value,
                     fields, wall, received_at)
  SELECT cursor, device_id, seq, kind, tbl, record_id, field, hlc, parents, household, village, value, fields, wall,
         received_at FROM changes_copy ORDER BY cursor;
DROP TABLE changes_copy;
DELETE FROM sqlite_sequence WHERE name = 'changes';
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'changes', max (coalesce ((SELECT seq FROM changes_seq), 0), coalesce ((SELECT max (cursor) FROM changes), 0));
DROP TABLE changes_seq;

CREATE UNIQUE INDEX changes_edit_identity ON changes (tbl, record_id, field, hlc) WHERE kind = 'edit';
CREATE UNIQUE INDEX changes_record_identity ON changes (tbl, record_id) WHERE kind = 'record';
CREATE INDEX changes_by_village ON changes (village, cursor);
CREATE INDEX changes_by_received ON changes (tbl, received_at);
DROP INDEX push_outcomes_by_cursor;

-- Every outcome, as a push sent again is answered: a row of push_outcomes,
-- or else the change stored under the number.
CREATE VIEW all_push_outcomes AS
  SELECT device_id, seq, cursor, code, message, original_hlc, clamped_hlc, digest FROM push_outcomes
  UNION ALL
  SELECT c.device_id, c.seq, c.cursor, NULL, NULL, NULL, NULL, c.digest FROM changes c
  WHERE c.device_id <> 'center' AND NOT EXISTS (
    SELECT 1 FROM push_outcomes o WHERE o.device_id = c.device_id AND o.seq = c.seq);
