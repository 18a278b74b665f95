-- What each pushed change held (sync/PROTOCOL.md section 7): the
-- BLAKE2b-256 (hex) of the change as the device sent it, less what the
-- device looks up when it pushes (household, village). A change number
-- sent again is a repeat only with the same digest; another one means the
-- device used the number again (a store restored from a backup), and is
-- refused. NULL for outcomes recorded before this migration: those are
-- answered as before.
ALTER TABLE push_outcomes ADD COLUMN digest TEXT CHECK (digest IS NULL OR length (digest) = 64);
