-- The county center's store (sync/PROTOCOL.md; sync/center-store.h).
-- Times are milliseconds since 1970-01-01 UTC; device ids and record ids
-- are UUIDs; versions are hybrid-logical-clock texts (sync/hlc.h).

-- The county this center serves: one row, written by `hearth-center init`.
-- Only the public half of the county recovery key is kept here.
CREATE TABLE county (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  code TEXT NOT NULL CHECK (length (code) = 6 AND code NOT GLOB '*[^0-9]*'),
  time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
  public_key BLOB NOT NULL CHECK (length (public_key) = 32),
  created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('worker', 'clerk', 'township', 'county')),
  created_at INTEGER NOT NULL
) STRICT;

-- A user's scope: division-code prefixes (6-digit county, 9-digit
-- township, 12-digit village). A change is in scope when its village
-- starts with one of them.
CREATE TABLE user_scopes (
  user TEXT NOT NULL REFERENCES users (name),
  prefix TEXT NOT NULL CHECK (length (prefix) IN (6, 9, 12) AND prefix NOT GLOB '*[^0-9]*'),
  PRIMARY KEY (user, prefix)
) STRICT, WITHOUT ROWID;

-- An enrolled device. acked_seq is the last change number consumed;
-- clamp_floor the last version clamping gave it (so clamped versions stay
-- ordered); audit_seq/audit_hash the head of its audit chain as verified
-- here, audit_broken the first break found (NULL: whole).
CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  user TEXT NOT NULL REFERENCES users (name),
  public_key BLOB NOT NULL UNIQUE CHECK (length (public_key) = 32),
  name TEXT NOT NULL,
  enrolled_at INTEGER NOT NULL,
  revoked_at INTEGER,
  acked_seq INTEGER NOT NULL DEFAULT 0 CHECK (acked_seq >= 0),
  last_seen_at INTEGER,
  clamp_floor TEXT,
  audit_seq INTEGER NOT NULL DEFAULT 0 CHECK (audit_seq >= 0),
  audit_hash TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
  audit_broken TEXT
) STRICT;

-- Enrolment codes: only the BLAKE2b-256 of the code is kept. A code is
-- used once, by the device named here.
CREATE TABLE enrol_codes (
  code_hash BLOB PRIMARY KEY CHECK (length (code_hash) = 32),
  user TEXT NOT NULL REFERENCES users (name),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  device_id TEXT REFERENCES devices (id),
  CHECK ((used_at IS NULL) = (device_id IS NULL))
) STRICT;

-- Request nonces seen in the last 10 minutes, per device (replay check).
CREATE TABLE nonces (
  device_id TEXT NOT NULL REFERENCES devices (id),
  nonce TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, nonce)
) STRICT, WITHOUT ROWID;
CREATE INDEX nonces_by_time ON nonces (seen_at);

-- Every change stored, numbered by cursor in commit order. An edit's
-- identity is (tbl, record_id, field, hlc), an immutable record's
-- (tbl, record_id): each is stored once, whatever the deliveries. hlc is
-- the version after clamping; parents are a JSON array of versions,
-- fields a JSON object of strings. household and village may be NULL only
-- for audit entries, which are then never pulled.
CREATE TABLE changes (
  cursor INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id TEXT NOT NULL REFERENCES devices (id),
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
  CHECK (tbl = 'audit' OR (household IS NOT NULL AND village IS NOT NULL))
) STRICT;
CREATE UNIQUE INDEX changes_edit_identity ON changes (tbl, record_id, field, hlc) WHERE kind = 'edit';
CREATE UNIQUE INDEX changes_record_identity ON changes (tbl, record_id) WHERE kind = 'record';
CREATE INDEX changes_by_village ON changes (village, cursor);

-- What became of each change a device pushed, so that a batch sent again
-- is answered as the first time: stored (cursor), acknowledged as a repeat
-- of a stored one (no cursor, no code), or refused (code and message);
-- and, for a clamped edit, its version as pushed and as stored.
CREATE TABLE push_outcomes (
  device_id TEXT NOT NULL REFERENCES devices (id),
  seq INTEGER NOT NULL,
  cursor INTEGER REFERENCES changes (cursor),
  code TEXT,
  message TEXT,
  original_hlc TEXT,
  clamped_hlc TEXT,
  PRIMARY KEY (device_id, seq),
  CHECK ((code IS NULL) = (message IS NULL)),
  CHECK ((original_hlc IS NULL) = (clamped_hlc IS NULL))
) STRICT, WITHOUT ROWID;
CREATE INDEX push_outcomes_clamped ON push_outcomes (device_id, original_hlc) WHERE original_hlc IS NOT NULL;

-- The merged state of mutable records (sync/merge.h over the stored edits
-- of each field): the winning value and version ...
CREATE TABLE field_state (
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT NOT NULL,
  household TEXT NOT NULL,
  village TEXT NOT NULL,
  value TEXT NOT NULL,
  hlc TEXT NOT NULL,
  PRIMARY KEY (tbl, record_id, field)
) STRICT, WITHOUT ROWID;
CREATE INDEX field_state_by_household ON field_state (household);

-- ... and every other head, an open conflict (id: hearth_merge_conflict_id).
CREATE TABLE conflicts (
  id TEXT PRIMARY KEY,
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT NOT NULL,
  household TEXT NOT NULL,
  village TEXT NOT NULL,
  winner_hlc TEXT NOT NULL,
  loser_hlc TEXT NOT NULL,
  loser_value TEXT NOT NULL
) STRICT;
CREATE INDEX conflicts_by_field ON conflicts (tbl, record_id, field);

-- Where each household is at the center: the village of the first change
-- that named it, then its merged village_code. A device may change a
-- household only when this village is in its scope too.
CREATE TABLE household_villages (
  household TEXT PRIMARY KEY,
  village TEXT NOT NULL
) STRICT, WITHOUT ROWID;
