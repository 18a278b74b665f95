-- Forms being filled on this tablet (issue 6, item 4): the working
-- instance of each, saved after every answer so that leaving the form,
-- the idle lock or a killed app loses nothing. A draft is this device's
-- own: it never enters the sync outbox. Finalising records the
-- submission and deletes the draft in one transaction (app/case-drafts.h).
CREATE TABLE drafts (
  id           TEXT PRIMARY KEY NOT NULL,              -- a UUID
  form_id      TEXT NOT NULL,
  form_version TEXT NOT NULL,                          -- the version it was begun with
  household_id TEXT,                                   -- NULL for a registration
  instance_id  TEXT NOT NULL,                          -- meta/instanceID ("uuid:…")
  label        TEXT NOT NULL DEFAULT '',               -- meta/instanceName as it stands
  page         TEXT NOT NULL DEFAULT '',               -- where the user was (HearthFormView's page key)
  xml          TEXT NOT NULL,                          -- hearth_form_session_save_draft()
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
CREATE INDEX drafts_household ON drafts (household_id, updated_at);
