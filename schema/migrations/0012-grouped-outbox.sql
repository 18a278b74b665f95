-- One outbox row per record write (sync/PROTOCOL.md sections 6.1 and 7):
-- the case store stamps one version for all the fields one write of a
-- record changes (app/case-store.c), and the write travels as one change
-- of kind "edits" to a center that takes them (it says so in "features",
-- section 5), instead of one "edit" per field.
--
-- A row of kind 'edits' names the write by (record_table, record_id,
-- hlc), field NULL: the change is made from the field_edits rows of that
-- version when it is pushed (app/sync-store.c). The trigger on field_edits
-- numbers the write once, at its first field (the unique index below
-- keeps a write one row), when sync_state holds 'outbox_edits'; without
-- it, one 'edit' row per field as before. 'outbox_edits' is set while the
-- store is not enrolled (nothing is sent before) and when its center
-- advertises "edits"; enrolling with a center that does not advertise them
-- numbers the grouped rows of before again, one per field (sync-store.c).
-- Rows written before this migration stay as they are: both kinds are
-- pushed.
--
-- sync_outbox is made again for its CHECKs, under a new name first, so
-- that the triggers naming it are made again with it (dropped before, as
-- a rename of the table would rewrite them).
DROP TRIGGER sync_outbox_field_edits;
DROP TRIGGER sync_outbox_submissions;
DROP TRIGGER sync_outbox_reviews;
DROP TRIGGER sync_outbox_audit;

CREATE TABLE sync_outbox_0012 (
  seq          INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('edit', 'edits', 'record')),
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  field        TEXT,
  hlc          TEXT,
  state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'refused')),
  CHECK ((kind = 'edit') = (field IS NOT NULL AND hlc IS NOT NULL)),
  CHECK (kind <> 'edits' OR (field IS NULL AND hlc IS NOT NULL))
);
INSERT INTO sync_outbox_0012 (seq, kind, record_table, record_id, field, hlc, state)
  SELECT seq, kind, record_table, record_id, field, hlc, state FROM sync_outbox ORDER BY seq;
DROP TABLE sync_outbox;
ALTER TABLE sync_outbox_0012 RENAME TO sync_outbox;

-- A write is numbered once (and found by its version when clamped).
CREATE UNIQUE INDEX sync_outbox_write ON sync_outbox (record_table, record_id, hlc) WHERE kind = 'edits';

-- The write's later fields find its row there: the unique index ignores
-- them (an ignored insert takes no number: the numbers stay consecutive).
-- One statement, and the index's own probe, cost a third of a second one
-- testing NOT EXISTS first. No writer of field_edits names a conflict
-- clause (which would replace this one) outside 'applying'.
CREATE TRIGGER sync_outbox_field_edits AFTER INSERT ON field_edits
WHEN NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying')
BEGIN
  INSERT OR IGNORE INTO sync_outbox (kind, record_table, record_id, field, hlc)
    SELECT iif (grouped, 'edits', 'edit'), NEW.record_table, NEW.record_id, iif (grouped, NULL, NEW.field), NEW.hlc
    FROM (SELECT EXISTS (SELECT 1 FROM sync_state WHERE key = 'outbox_edits') AS grouped);
END;

CREATE TRIGGER sync_outbox_submissions AFTER INSERT ON submissions
WHEN NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying')
BEGIN
  INSERT INTO sync_outbox (kind, record_table, record_id) VALUES ('record', 'submissions', NEW.id);
END;

CREATE TRIGGER sync_outbox_reviews AFTER INSERT ON reviews
WHEN NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying')
BEGIN
  INSERT INTO sync_outbox (kind, record_table, record_id) VALUES ('record', 'reviews', NEW.id);
END;

CREATE TRIGGER sync_outbox_audit AFTER INSERT ON audit_log
BEGIN
  INSERT INTO sync_outbox (kind, record_table, record_id) VALUES ('record', 'audit', NEW.id);
END;

-- A store not enrolled yet groups its writes; an enrolled one groups once
-- a reply of its center advertises "edits" (sync-store.c).
INSERT INTO sync_state (key, value)
  SELECT 'outbox_edits', 1 WHERE NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'center_url');
