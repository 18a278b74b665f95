-- The center's batch signing key (sync/PROTOCOL.md section 10): an
-- Ed25519 key the center signs every batch's manifest.json with, so that
-- county staff can tell a batch the center wrote from one whose files and
-- checksums were edited together. One row; the 32-byte seed is made with
-- libsodium when the store is opened without one (hearth-center init, or
-- the first start after this migration), never here: SQLite's randomblob()
-- is not a key generator.
CREATE TABLE batch_signing_key (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  seed BLOB NOT NULL CHECK (typeof (seed) = 'blob' AND length (seed) = 32),
  public_key BLOB NOT NULL CHECK (typeof (public_key) = 'blob' AND length (public_key) = 32),
  created_at INTEGER NOT NULL
);
