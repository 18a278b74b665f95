-- The village index of the change log holds the changes that name a
-- village only: changes_by_village becomes a partial index on village IS
-- NOT NULL. An audit entry names no village (nor does a published
-- record), and each put an entry into the index at the place of the
-- NULLs: a fifth of the rows of the bench's ingest (1,000 audit entries
-- in 5,252 changes), each an entry written and its page split in turn,
-- in the writer's serial turn, the center's bottleneck in an ingest
-- (issue 5; callgrind of the ingest's rows inserted into a copy of the
-- bench's store with and without those entries: some 1,200 instructions
-- a change less).
--
-- Every statement that reads the index constrains village by = or by a
-- range, which implies the index's condition, so SQLite still uses it
-- for them (INDEXED BY says so, and fails the statement if not). The one
-- that read the changes without a village through it, a pull of a scope
-- that holds the whole county, walks the log in cursor order instead, as
-- such a pull of a county of more than 64 villages did already
-- (center-store-sqlite.c, pull_walk_start()): it reads every change of
-- the county but its own device's either way.
--
-- The index is built again from the log (sorted, not an entry at a
-- time), and checked: as many entries as the log has changes with a
-- village; any difference stops the migration, which is one transaction
-- (nothing is changed). Timed in docs/operations.md (a store of 2
-- million changes).
DROP INDEX changes_by_village;
CREATE INDEX changes_by_village ON changes (village, cursor) WHERE village IS NOT NULL;

CREATE TEMP TABLE check_0024 (
  entries_kept INTEGER NOT NULL
    CONSTRAINT "the village index does not hold every change that names a village" CHECK (entries_kept)
) STRICT;
INSERT INTO check_0024 (entries_kept)
  SELECT (SELECT count (*) FROM changes INDEXED BY changes_by_village WHERE village >= '')
         = (SELECT count (*) FROM changes NOT INDEXED WHERE village IS NOT NULL);
DROP TABLE temp.check_0024;
