-- field_state without household and village (0001-center.sql): a field's
-- state is found by its key, and its household and village are those of
-- its winning edit, a row of changes found by its identity (tbl,
-- record_id, field, hlc) when an export asks for them (the only reader:
-- where a record is now). Copied into every field's row they were a third
-- of it (two UUID-sized texts), and field_state was the table a push wrote
-- the most pages of: 1,363 of a group commit of ~190 visits in the bench's
-- ingest. No index holds either column (0009-field-state-lean.sql).
ALTER TABLE field_state DROP COLUMN household;
ALTER TABLE field_state DROP COLUMN village;
