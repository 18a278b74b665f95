-- When the center received its changes, kept a transaction at a time
-- instead of in an index of every change. changes_by_received (tbl,
-- received_at) served two readers: an export's dates (the changes
-- received from `since` to `until`, PROTOCOL.md section 8) and a pull's
-- published records (forms, thresholds, divisions). Its entry cost the
-- writer, the center's bottleneck, some 5,000 instructions a change (a
-- sixth of the B-tree work of storing one: callgrind of the bench's
-- ingest rows inserted with and without it).
--
-- change_receipts holds, for each transaction that stored changes (a
-- group commit of pushes, a publication), the range of cursors it gave
-- and the earliest and latest receipt time of its changes: one row a
-- group of some thousands of changes. An export turns its dates into the
-- cursors of the transactions that overlap them and reads the change log
-- in that cursor range, each row's received_at still compared with the
-- dates, so that a batch holds exactly what it held before. Rows written
-- into changes by hand, outside the center, have no receipt: an export
-- reads every change above the last receipt's range, so such rows at the
-- end of the log are still found.
--
-- A transaction's rows may all be undone by savepoints and their cursors
-- given again by the next one (AUTOINCREMENT's counter is undone with
-- them): two receipts then end at one cursor, merged into one row (the
-- writer's INSERT … ON CONFLICT), whose range covers both.
CREATE TABLE change_receipts (
  last_cursor INTEGER PRIMARY KEY,
  first_cursor INTEGER NOT NULL,
  first_received INTEGER NOT NULL,
  last_received INTEGER NOT NULL,
  CHECK (first_cursor <= last_cursor AND first_received <= last_received)
) STRICT;
CREATE INDEX change_receipts_by_time ON change_receipts (last_received);

-- The changes stored so far: one receipt a receipt time (every change of
-- a push shares its time), its cursors' range. Ranges may overlap (a
-- group commit's pushes received at different times): an export reads
-- the union of those that meet its dates.
INSERT INTO change_receipts (last_cursor, first_cursor, first_received, last_received)
  SELECT max (cursor), min (cursor), received_at, received_at FROM changes GROUP BY received_at
  ON CONFLICT (last_cursor) DO UPDATE SET first_cursor = min (first_cursor, excluded.first_cursor),
    first_received = min (first_received, excluded.first_received),
    last_received = max (last_received, excluded.last_received);

-- A pull's published records, a few among millions of changes: a partial
-- index, which the writer skips for every other change (the test of its
-- WHERE, no B-tree).
DROP INDEX changes_by_received;
CREATE INDEX changes_published ON changes (cursor) WHERE tbl = 'forms' OR tbl = 'thresholds' OR tbl = 'divisions';
