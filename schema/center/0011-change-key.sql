-- changes found by one compact integer key instead of the identity
-- index of edits (0008-stored-outcomes.sql): changes_edit_identity on
-- (tbl, record_id, field, hlc), whose entries were two UUID-sized texts
-- and a version of some sixty characters each, put at a random place
-- (record ids are UUIDs) by every edit stored: with the key of device and number, the largest part of
-- the center's time per change stored in the bench's ingest.
--
-- ikey is hearth_change_key (tbl, record_id, field), a function the
-- center's store gives each of its connections (center-store-sqlite.c):
-- 48 bits of the BLAKE2b of "tbl\nrecord_id" above 16 of the BLAKE2b of
-- field (0 for a record, whose field is NULL), as a signed 64-bit
-- integer. A record's changes keep their keys side by side (a visit's
-- edits of a record go to one place of the index), a field's edits share
-- one key, and a record's edits lie within 65,536 keys of its record key.
-- vkey is hearth_version_key (hlc): 64 bits of the BLAKE2b of an edit's
-- version (NULL for a record), so that an edit is found by its identity
-- in one step of the index (ikey, vkey) whatever the number of edits its
-- field had, as changes_edit_identity found it. Keys are where to look,
-- never an identity: every statement compares tbl, record_id, field and
-- hlc of the rows it finds under them. What changes_edit_identity
-- refused (an edit stored twice) is looked up before storing, in the
-- same write transaction: a push's edit whose identity is found is a
-- repeat or a refusal (center-sync.c), and the center's own edits take
-- new versions of its clock. Immutable records (submissions, reviews,
-- audit entries, published records) keep their unique index,
-- changes_record_identity (issue 5: "a union keyed by UUID, enforced by
-- unique constraints at the center"); a visit holds two or three of them
-- against a dozen edits, so it costs little.
ALTER TABLE changes ADD COLUMN ikey INTEGER;
ALTER TABLE changes ADD COLUMN vkey INTEGER;
UPDATE changes SET ikey = hearth_change_key (tbl, record_id, field), vkey = hearth_version_key (hlc);
DROP INDEX changes_edit_identity;
CREATE INDEX changes_by_key ON changes (ikey, vkey);
