-- Forms and county thresholds the county center published
-- (sync/PROTOCOL.md section 6.2; `hearth-center publish-form` and
-- `set-thresholds`), as pulled: immutable, one row per published version,
-- applied by app/sync-apply.c. `hearth-cli form list` lists the forms
-- beside the bundled ones.
CREATE TABLE published_forms (
  id           TEXT PRIMARY KEY NOT NULL,              -- the center's record id
  kind         TEXT NOT NULL CHECK (kind IN ('form', 'thresholds')),
  form_id      TEXT,                                   -- NULL for thresholds
  version      TEXT NOT NULL,
  title        TEXT NOT NULL DEFAULT '',
  xml          TEXT NOT NULL,
  published_at TEXT NOT NULL DEFAULT '',                -- at the center
  received_at  TEXT NOT NULL,
  CHECK ((kind = 'form') = (form_id IS NOT NULL))
);
CREATE UNIQUE INDEX published_forms_version ON published_forms (kind, coalesce (form_id, ''), version);
