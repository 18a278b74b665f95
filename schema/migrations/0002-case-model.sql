-- The case model of ../shared/DOMAIN.md on the tablet: households and
-- their members (mutable, one version stamp per field), submissions,
-- reviews and audit entries (immutable), follow-up tasks, and conflicts.
-- Identifiers are UUIDs made on the device. Dates are calendar dates
-- (YYYY-MM-DD); times are ISO 8601 with their offset, as written.

-- A household: an ODK entity of the dataset "households"; its properties
-- are those of ../shared/INTERFACES.md ("Forms and cases").
CREATE TABLE households (
  id                TEXT PRIMARY KEY NOT NULL,
  registry_no       TEXT UNIQUE,                       -- the county registry's number, if any
  village_code      TEXT NOT NULL CHECK (length (village_code) = 12 AND village_code NOT GLOB '*[^0-9]*'),
  address           TEXT NOT NULL DEFAULT '',
  head_name         TEXT NOT NULL DEFAULT '',
  head_id_number    TEXT NOT NULL DEFAULT '',
  category          TEXT NOT NULL DEFAULT '' CHECK (category IN ('', '0', '1', '2')),
  phone             TEXT NOT NULL DEFAULT '',
  location          TEXT NOT NULL DEFAULT '',          -- geopoint "lat lon alt acc"
  member_count      INTEGER NOT NULL DEFAULT 0 CHECK (member_count >= 0),
  per_capita_income TEXT NOT NULL DEFAULT '',          -- as the form stored it
  risk_level        TEXT NOT NULL DEFAULT 'none' CHECK (risk_level IN ('red', 'orange', 'yellow', 'none')),
  risk_types        TEXT NOT NULL DEFAULT '',          -- space-separated codes
  risk_submission   TEXT,                              -- the visit that set the risk level
  monitoring_status TEXT NOT NULL DEFAULT 'none' CHECK (monitoring_status IN (
                      'none', 'pending_village_review', 'returned', 'pending_county_approval',
                      'monitored', 'pending_elimination', 'risk_eliminated')),
  last_visit_date   TEXT NOT NULL DEFAULT '',
  next_visit_date   TEXT NOT NULL DEFAULT '',
  eliminated_on     TEXT NOT NULL DEFAULT '',
  entity_version    INTEGER NOT NULL DEFAULT 1,        -- ODK Entities baseVersion
  deleted           INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),  -- a tombstone
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX households_village ON households (village_code, head_name);
CREATE INDEX households_status ON households (monitoring_status, risk_level);
CREATE INDEX households_id_number ON households (head_id_number);

CREATE TABLE members (
  id                   TEXT PRIMARY KEY NOT NULL,
  household_id         TEXT NOT NULL REFERENCES households (id),
  position             INTEGER NOT NULL DEFAULT 0,     -- order within the household
  name                 TEXT NOT NULL DEFAULT '',
  id_number            TEXT NOT NULL DEFAULT '',
  sex                  TEXT NOT NULL DEFAULT '',
  birth_date           TEXT NOT NULL DEFAULT '',
  relation             TEXT NOT NULL DEFAULT '',
  ethnicity            TEXT NOT NULL DEFAULT '',
  phone                TEXT NOT NULL DEFAULT '',
  education            TEXT NOT NULL DEFAULT '',
  school_status        TEXT NOT NULL DEFAULT '',
  health               TEXT NOT NULL DEFAULT '',
  disability_cert_year TEXT NOT NULL DEFAULT '',
  labour               TEXT NOT NULL DEFAULT '',
  months_worked        TEXT NOT NULL DEFAULT '',
  work_place           TEXT NOT NULL DEFAULT '',
  insurance            TEXT NOT NULL DEFAULT '',
  benefits             TEXT NOT NULL DEFAULT '',
  deleted              INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  created_at           TEXT NOT NULL,
  updated_at           TEXT NOT NULL
);
CREATE INDEX members_household ON members (household_id, position);
CREATE INDEX members_id_number ON members (id_number);

-- One version stamp per field of a mutable record: the hybrid logical
-- clock time of its last change (sync/hlc.h), and the version it was based
-- on, so two offline edits can be told concurrent.
CREATE TABLE field_versions (
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  field        TEXT NOT NULL,
  hlc          TEXT NOT NULL,
  base_hlc     TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (record_table, record_id, field)
) WITHOUT ROWID;

-- A finalised form: immutable. Editing a submission makes a new one whose
-- deprecated_id names the old.
CREATE TABLE submissions (
  id            TEXT PRIMARY KEY NOT NULL,             -- meta/instanceID without "uuid:"
  form_id       TEXT NOT NULL,
  form_version  TEXT NOT NULL DEFAULT '',
  household_id  TEXT REFERENCES households (id),
  author        TEXT NOT NULL,
  device_id     TEXT NOT NULL,
  started_at    TEXT NOT NULL DEFAULT '',
  ended_at      TEXT NOT NULL DEFAULT '',
  location      TEXT NOT NULL DEFAULT '',
  risk_level    TEXT NOT NULL DEFAULT '',
  deprecated_id TEXT,
  instance_xml  TEXT NOT NULL,
  recorded_at   TEXT NOT NULL
);
CREATE INDEX submissions_household ON submissions (household_id, ended_at);

-- Follow-up visits and correction tasks.
CREATE TABLE tasks (
  id                TEXT PRIMARY KEY NOT NULL,
  household_id      TEXT NOT NULL REFERENCES households (id),
  kind              TEXT NOT NULL CHECK (kind IN ('follow_up', 'correction')),
  due_date          TEXT NOT NULL,
  reason            TEXT NOT NULL DEFAULT '',
  status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
  assignee          TEXT NOT NULL DEFAULT '',
  opened_by         TEXT,                              -- submission or review
  closed_by         TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
);
CREATE INDEX tasks_open ON tasks (status, due_date) WHERE status = 'open';
CREATE INDEX tasks_household ON tasks (household_id, status);

-- A transition of the monitoring workflow (../shared/INTERFACES.md): who,
-- in which role, when, from and to which state, and why. Immutable.
CREATE TABLE reviews (
  id            TEXT PRIMARY KEY NOT NULL,
  household_id  TEXT NOT NULL REFERENCES households (id),
  submission_id TEXT REFERENCES submissions (id),
  actor         TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('worker', 'clerk', 'township', 'county')),
  at            TEXT NOT NULL,
  from_state    TEXT NOT NULL,
  to_state      TEXT NOT NULL,
  comment       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reviews_household ON reviews (household_id, at);

-- Concurrent edits of one field: the losing value, kept for the clerk.
-- The id is a hash of (record, field, both versions), the same on every
-- replica.
CREATE TABLE conflicts (
  id           TEXT PRIMARY KEY NOT NULL,
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  field        TEXT NOT NULL,
  kept_value   TEXT NOT NULL,
  kept_hlc     TEXT NOT NULL,
  lost_value   TEXT NOT NULL,
  lost_hlc     TEXT NOT NULL,
  resolved_at  TEXT,
  resolved_by  TEXT,
  resolution   TEXT
);
CREATE INDEX conflicts_open ON conflicts (record_table, record_id) WHERE resolved_at IS NULL;

-- The audit log: every change appends an entry naming who, what, when,
-- the record and the fields (never the personal values). Each entry's
-- hash is BLAKE2b-256 over the previous entry's hash and its own fields
-- (app/case-audit.c), so an edited, removed or reordered entry shows.
CREATE TABLE audit_log (
  seq          INTEGER PRIMARY KEY,                    -- 1, 2, 3, … without gaps
  id           TEXT NOT NULL UNIQUE,
  at           TEXT NOT NULL,
  actor        TEXT NOT NULL,
  device_id    TEXT NOT NULL,
  action       TEXT NOT NULL,
  record_table TEXT NOT NULL,
  record_id    TEXT NOT NULL,
  fields       TEXT NOT NULL DEFAULT '',               -- space-separated field names
  prev_hash    TEXT NOT NULL,                          -- hex
  hash         TEXT NOT NULL                           -- hex
);
