-- Where each household is at the center (household_villages,
-- 0001-center.sql) under the household's number (record_state.rkey,
-- 0015-record-number.sql) instead of its id: a table of rows, hkey its
-- rowid. Keyed by household ids (UUIDs), every household the center met
-- for the first time put an entry at a random place of the table, and a
-- group commit of a few hundred visits, each naming a household the
-- center did not have (the bench's ingest), wrote again nearly every page
-- of it; a new household's entry now goes at the end, beside the others
-- its group commit adds.
--
-- A household named gets its number as a record edited does (center-
-- store-sqlite.c numbers it before it keeps its village), its state '{}'
-- (that of a record without a field) until an edit of it is merged: one
-- named only by other changes (a member, a visit's submission) has a
-- number and no field. The statements find a household's village by its
-- number, through record_state's (tbl, record_id).
CREATE TABLE household_villages_by_number (
  hkey INTEGER PRIMARY KEY,
  village TEXT NOT NULL
) STRICT;

INSERT INTO record_state (tbl, record_id, state)
  SELECT 'households', household, '{}' FROM household_villages ORDER BY household
  ON CONFLICT (tbl, record_id) DO NOTHING;
INSERT INTO household_villages_by_number (hkey, village)
  SELECT r.rkey, h.village FROM household_villages h, record_state r
  WHERE r.tbl = 'households' AND r.record_id = h.household
  ORDER BY r.rkey;
DROP TABLE household_villages;
ALTER TABLE household_villages_by_number RENAME TO household_villages;
