-- The registry checks look up two fields by value: households.registry_no
-- (a push, sync/PROTOCOL.md section 7.2, and import-households) and
-- members.id_number (import-households). The index of 0002 held every
-- field's value, so every merged edit of any field (a submission's long
-- answers included) rewrote an entry of it at a random place: the bench's
-- ingest spent a page write of the WAL on it per change. These two partial
-- indexes hold only what is looked up (the queries name both fields
-- literally, so SQLite can use them).
DROP INDEX field_state_by_value;
CREATE INDEX field_state_registry_no ON field_state (value) WHERE tbl = 'households' AND field = 'registry_no';
CREATE INDEX field_state_id_number ON field_state (value) WHERE tbl = 'members' AND field = 'id_number';
