-- A push's outcomes (sync/PROTOCOL.md section 7) without a row for each
-- change stored as pushed, the most of them: such a change is its own
-- outcome, found by its device and number (the unique key of changes)
-- with its cursor and, here, the digest of what it held as pushed (as
-- push_outcomes.digest, 0003-push-digest.sql). push_outcomes keeps the
-- other outcomes (refused, clamped, a repeat of a stored change) and
-- every outcome recorded before this migration. NULL for the center's own
-- changes and for changes stored before.
ALTER TABLE changes ADD COLUMN digest TEXT CHECK (digest IS NULL OR length (digest) = 64);

-- Every outcome, as a push sent again is answered: a row of push_outcomes,
-- or else the change stored under the number.
CREATE VIEW all_push_outcomes AS
  SELECT device_id, seq, cursor, code, message, original_hlc, clamped_hlc, digest FROM push_outcomes
  UNION ALL
  SELECT c.device_id, c.seq, c.cursor, NULL, NULL, NULL, NULL, c.digest FROM changes c
  WHERE c.device_id <> 'center' AND NOT EXISTS (
    SELECT 1 FROM push_outcomes o WHERE o.device_id = c.device_id AND o.seq = c.seq);
