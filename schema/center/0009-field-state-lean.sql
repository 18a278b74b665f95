-- field_state without its index by household (0001-center.sql): no
-- statement looks a field's state up by household (pulls read the change
-- log by village; a push finds a field's state by its key), yet every
-- field a push stored wrote an entry of it at a random place (households
-- are UUIDs): a sixth of the WAL a replay of the bench's ingest wrote, and
-- the reason a field's state was set by an UPDATE that left household and
-- village alone, then an INSERT when the UPDATE found nothing (a field
-- seen for the first time, most of what a visit stores). Without it, a
-- field's state is set by one upsert (center-store-sqlite.c).
DROP INDEX field_state_by_household;
