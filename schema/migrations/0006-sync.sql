-- Sync on the device (sync/PROTOCOL.md sections 6-8 and 11; the code is
-- app/sync-store.c, sync-apply.c and sync-capture.c).
--
-- Every local change enters sync_outbox in the transaction that makes it:
-- field edits through the case model's write (app/sync-capture.c inserts
-- the field_edits row, the trigger below numbers it), submissions, reviews
-- and audit entries through the triggers below. Changes pulled from the center are applied with the row
-- 'applying' present in sync_state (inserted and deleted inside the apply
-- transaction, so no other connection ever sees it and a crash leaves
-- none behind): the triggers leave them out of the outbox.
--
-- A store used before this migration has data but no edit history: the
-- case store backfills field_edits and the outbox the first time it opens
-- the store (sync_state 'backfill_pending'), because an edit's value is a
-- column chosen by the edit's field name, which SQL cannot select.

-- Every edit of a mutable field this device holds, its own and pulled
-- ones: the set the merge rules (sync/merge.h) compute the field from.
CREATE TABLE field_edits (
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  field        TEXT NOT NULL,
  hlc          TEXT NOT NULL,                -- the edit's version (sync/hlc.h)
  parents      TEXT NOT NULL DEFAULT '',     -- the versions it replaced, space-separated
  value        TEXT NOT NULL,
  wall         TEXT NOT NULL DEFAULT '',     -- its device's wall time, for display
  origin       TEXT GENERATED ALWAYS AS (substr (hlc, 26)) VIRTUAL,  -- the device that made it
  PRIMARY KEY (record_table, record_id, field, hlc)
) WITHOUT ROWID;

-- This device's changes, numbered 1, 2, 3 … in the order they were made,
-- without gaps (PROTOCOL.md section 7). An edit is named by its identity,
-- an immutable record by its table and id ('audit' for audit_log entries).
-- Acknowledged rows are deleted but the newest, so that the next rowid is
-- still the last number plus one; refused ones are kept for the user.
CREATE TABLE sync_outbox (
  seq          INTEGER PRIMARY KEY,
  kind         TEXT NOT NULL CHECK (kind IN ('edit', 'record')),
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  field        TEXT,
  hlc          TEXT,
  state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'acked', 'refused')),
  CHECK ((kind = 'edit') = (field IS NOT NULL AND hlc IS NOT NULL))
);

-- Keys: cursor (the next pull's), acked_seq, pull_more, center_offset_ms,
-- last_sync_ms, enrolment (center_url, user, role, scope, county,
-- county_public_key, device_secret_key as a BLOB), applying,
-- backfill_pending.
CREATE TABLE sync_state (
  key   TEXT PRIMARY KEY NOT NULL,
  value NOT NULL
);
INSERT INTO sync_state (key, value) VALUES ('cursor', 0), ('acked_seq', 0), ('backfill_pending', 1);

-- Changes of this device the center refused, with its reason, for the user.
CREATE TABLE sync_refused (
  seq     INTEGER PRIMARY KEY,
  code    TEXT NOT NULL,
  message TEXT NOT NULL,
  at      TEXT NOT NULL
);

-- Pulled changes this device could not apply (an immutable record that
-- arrived again with other content, an edit of an unknown field, a value
-- the table refuses): kept once per change identity; the rest of the page
-- is applied.
CREATE TABLE sync_apply_errors (
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  field        TEXT NOT NULL DEFAULT '',
  hlc          TEXT NOT NULL DEFAULT '',
  cursor       INTEGER NOT NULL DEFAULT 0,
  message      TEXT NOT NULL,
  at           TEXT NOT NULL,
  PRIMARY KEY (record_table, record_id, field, hlc)
) WITHOUT ROWID;

-- Audit entries of other devices' chains, pulled: kept beside this
-- device's chain (audit_log), never appended to it.
CREATE TABLE audit_foreign (
  device_id    TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  id           TEXT NOT NULL,
  at           TEXT NOT NULL,
  actor        TEXT NOT NULL,
  action       TEXT NOT NULL,
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  fields       TEXT NOT NULL DEFAULT '',
  prev_hash    TEXT NOT NULL,
  hash         TEXT NOT NULL,
  PRIMARY KEY (device_id, seq)
) WITHOUT ROWID;

-- "Sync in progress" (PROTOCOL.md section 11): at most one holder, until
-- expires_at (ms since 1970); an expired lease is free.
CREATE TABLE sync_lease (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  holder     TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

CREATE TRIGGER sync_outbox_field_edits AFTER INSERT ON field_edits
WHEN NOT EXISTS (SELECT 1 FROM sync_state WHERE key = 'applying')
BEGIN
  INSERT INTO sync_outbox (kind, record_table, record_id, field, hlc)
    VALUES ('edit', NEW.record_table, NEW.record_id, NEW.field, NEW.hlc);
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

-- audit_log holds only this device's entries (pulled ones go to
-- audit_foreign), so every insert is pushed.
CREATE TRIGGER sync_outbox_audit AFTER INSERT ON audit_log
BEGIN
  INSERT INTO sync_outbox (kind, record_table, record_id) VALUES ('record', 'audit', NEW.id);
END;
