-- Assistance measures (../shared/DOMAIN.md, "Assistance measures" and step
-- 6 of "The procedure"): what the county, or the village clerk, decided to
-- do for a household, usually when the county approves the case into
-- monitoring, then tracked on follow-up visits (schema/forms/follow-up.xml
-- reads the active ones from the `case` instance and reports on each).
-- Mutable like households: one version stamp per field in field_versions
-- (record_table 'measures'), an audit entry naming the fields of every
-- change (app/case-store.c writes them).
--
-- type is a code of the forms' `measures` list (living, social_protection,
-- microcredit, industry, public_job, casual_work, regular_job, education,
-- health, housing, water, temporary_relief, insurance). The case model
-- checks it: no CHECK here, so that a later form version can add a code
-- without rebuilding the table. Checks across fields (ended_on set with
-- status 'ended', not before started_on) are the case model's too: sync
-- merges one field at a time (sync/PROTOCOL.md, section 6.1).
CREATE TABLE measures (
  id                  TEXT PRIMARY KEY NOT NULL,       -- a UUID made on the device
  household_id        TEXT NOT NULL REFERENCES households (id),
  type                TEXT NOT NULL,
  description         TEXT NOT NULL DEFAULT '',
  started_on          TEXT NOT NULL CHECK (started_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  ended_on            TEXT NOT NULL DEFAULT '' CHECK (ended_on = '' OR
                        ended_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
  status              TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
  created_by          TEXT,                            -- the review (or submission) it came with; NULL: on its own
  -- The latest follow-up's report on the measure, as the form stored it
  -- (progress: not_started, in_progress, completed, stopped; effect:
  -- effective, partly, not_effective, too_early, blank when not started).
  -- A report never ends a measure: ending is a decision (ended_on, status).
  last_progress       TEXT NOT NULL DEFAULT '',
  last_effect         TEXT NOT NULL DEFAULT '',
  last_remark         TEXT NOT NULL DEFAULT '',
  progress_on         TEXT NOT NULL DEFAULT '',        -- the date of that follow-up
  progress_submission TEXT REFERENCES submissions (id),
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);
-- The case instance lists a household's active measures by started_on, id.
CREATE INDEX measures_household ON measures (household_id, status, started_on, id);
