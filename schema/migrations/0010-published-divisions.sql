-- The names of the county's townships and villages the county center
-- published (sync/PROTOCOL.md section 6.2; `hearth-center
-- import-divisions`) are kept beside its forms and thresholds, kind
-- 'divisions', one row per published version; app/case-divisions.c reads
-- the newest. SQLite cannot change a CHECK in place, so the table is
-- rebuilt with its rows.
CREATE TABLE published_forms_new (
  id           TEXT PRIMARY KEY NOT NULL,              -- the center's record id
  kind         TEXT NOT NULL CHECK (kind IN ('form', 'thresholds', 'divisions')),
  form_id      TEXT,                                   -- NULL but for forms
  version      TEXT NOT NULL,
  title        TEXT NOT NULL DEFAULT '',
  xml          TEXT NOT NULL,
  published_at TEXT NOT NULL DEFAULT '',                -- at the center
  received_at  TEXT NOT NULL,
  CHECK ((kind = 'form') = (form_id IS NOT NULL))
);
INSERT INTO published_forms_new (id, kind, form_id, version, title, xml, published_at, received_at)
  SELECT id, kind, form_id, version, title, xml, published_at, received_at FROM published_forms ORDER BY rowid;
DROP TABLE published_forms;
ALTER TABLE published_forms_new RENAME TO published_forms;
CREATE UNIQUE INDEX published_forms_version ON published_forms (kind, coalesce (form_id, ''), version);
