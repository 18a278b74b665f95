-- The store's epoch (sync/PROTOCOL.md section 12): a random id that a
-- backup changes in its copy, with the copy's last cursor as its restore
-- point. A device that finds another epoch than the one it knew, or that
-- the center acknowledges fewer of its changes than it did, knows the
-- center was restored from a backup: it sends again what it made itself
-- and pulls again from the restore point, so that nothing acknowledged
-- after the backup is lost.
CREATE TABLE center_epoch (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  epoch TEXT NOT NULL CHECK (length (epoch) = 32 AND epoch NOT GLOB '*[^0-9a-f]*'),
  restore_cursor INTEGER NOT NULL DEFAULT 0 CHECK (restore_cursor >= 0)
) STRICT;
INSERT INTO center_epoch (only_row, epoch) VALUES (1, lower (hex (randomblob (16))));
