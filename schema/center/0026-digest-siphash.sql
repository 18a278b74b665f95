-- A change's digest (changes.digest, push_outcomes.digest: what the
-- change held as pushed, to tell a device's repeat of its change N from
-- another change it numbered N; PROTOCOL.md section 7) is SipHash-2-4 of
-- 128 bits from now on, 32 hex digits, where it was BLAKE2b-256, 64
-- (center-sync.c, push_item_digest()). BLAKE2b of every pushed byte held
-- 7.6% of the center's processor samples in an ingest (issue 5: perf of
-- the bench's 10,000 visits, hashed at 620 MB/s on the parse threads);
-- SipHash runs five times as fast (the ingest's center took 4% less
-- processor time: 1.11 s against 1.15 s, nine runs each, alternated),
-- and the digest needs no more than
-- 128 bits against an accidental collision: a device that made two of
-- its own changes collide would only have its second taken for a
-- repeat of its first.
--
-- The digests stored keep their 64 digits: a change stored before and
-- sent again after the upgrade (its acknowledgement lost) is still
-- compared with BLAKE2b of its text, told by the length
-- (push_item_digest_matches(); made when needed from the body's pieces,
-- or when the push is read for a body not in the devices' form).
--
-- Both columns' CHECKs take 32 digits too. A CHECK of a table that keeps
-- its columns can be changed in its schema text, as SQLite documents for
-- ALTER TABLE (lang_altertable.html, "other kinds of table schema
-- changes"; 0023-published-cursors.sql did): every stored row passes the
-- new CHECK, which only adds a length. A store whose tables differ from
-- what the migrations made is left as it is (the check fails).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema
  SET sql = replace (sql, 'digest TEXT CHECK (digest IS NULL OR length (digest) = 64)',
                     'digest TEXT CHECK (digest IS NULL OR length (digest) = 32 OR length (digest) = 64)')
  WHERE type = 'table' AND (name = 'changes' OR name = 'push_outcomes');
PRAGMA writable_schema = RESET;

-- The check: a constraint that fails stops the migration with its name.
-- Its table is in the main schema, not TEMP: its CREATE and DROP advance
-- the schema's version, which the UPDATE above leaves as it is, so that
-- every other connection to the store reads the new CHECKs (SQLite reads
-- a schema again only when its version changed; a connection opened
-- before, as a second hearth-center's while this one migrated, kept the
-- CHECKs of 64 digits and refused a digest of 32: /center/b32/schema-version).
CREATE TABLE check_0026 (
  checks_changed INTEGER NOT NULL
    CONSTRAINT "the tables changes and push_outcomes are not as 0025 left them: their digests' CHECKs were not changed"
    CHECK (checks_changed)
) STRICT;
INSERT INTO check_0026 (checks_changed)
  SELECT (SELECT count (*) FROM sqlite_schema
          WHERE type = 'table' AND (name = 'changes' OR name = 'push_outcomes')
            AND instr (sql, 'digest TEXT CHECK (digest IS NULL OR length (digest) = 32 OR length (digest) = 64)') > 0
            AND instr (sql, 'digest IS NULL OR length (digest) = 64)') = 0) = 2;
DROP TABLE check_0026;
