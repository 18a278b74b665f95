-- The published records (forms, thresholds, divisions) found through a
-- table of their cursors, no longer through a partial index of the
-- change log. changes_published (0020-change-receipts.sql) held a few
-- entries among millions of changes, but SQLite opens every index of a
-- table at each INSERT, partial or not, and tests its WHERE (three
-- comparisons of tbl): some 1,100 instructions a change in the writer's
-- serial turn, the center's bottleneck in an ingest (issue 5; callgrind
-- of the bench's ingest rows inserted with and without it).
--
-- published_cursors holds the cursor of every published record. The
-- center's writer adds it in the transaction that stores the record
-- (center-store-sqlite.c, sqlite_add_change()), and a pull reads the
-- published records through it, in cursor order. A published record
-- written into changes by hand (outside the center) is sent to the
-- devices only once its cursor is entered here too.
--
-- The table is filled from the log before the index goes, and checked:
-- as many cursors as the log has published records, each one of them;
-- any difference stops the migration, which is one transaction (nothing
-- is changed). With the CHECKs' check below (every row read): under a
-- second of CPU on a store of 2 million changes (1.4 GB), a few pages of
-- disk.

CREATE TABLE published_cursors (
  cursor INTEGER PRIMARY KEY
) STRICT;

INSERT INTO published_cursors (cursor)
  SELECT cursor FROM changes INDEXED BY changes_published
  WHERE tbl = 'forms' OR tbl = 'thresholds' OR tbl = 'divisions' ORDER BY cursor;

-- changes' CHECKs of its kinds, one instead of four (and the kind's
-- own): each of those tested the row's kind again, five to seven
-- comparisons of text a row where one to three settle it now. The same
-- rows pass (a kind, then its columns; fields text or, in a record, a
-- BLOB, as fields >= '' AND fields < x'' told before). Some 550
-- instructions a change less in the writer (callgrind, the bench's
-- ingest rows inserted under each). A CHECK of a table that keeps its
-- columns can be changed in its schema text, as SQLite documents for
-- ALTER TABLE (lang_altertable.html, "other kinds of table schema
-- changes"): the rows' format is the same, and SQLite checks no row
-- then, so every row is checked below, and a store whose table differs
-- from what 0022 made is left as it is (the check fails).
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = 'CREATE TABLE changes (
  cursor INTEGER PRIMARY KEY,
  device INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL,
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT,
  hlc TEXT,
  parents TEXT,
  household TEXT,
  village TEXT,
  value TEXT,
  fields ANY,
  wall TEXT,
  received_at INTEGER NOT NULL,
  digest TEXT CHECK (digest IS NULL OR length (digest) = 64),
  ikey INTEGER,
  vkey INTEGER,
  CHECK ((kind = ''edits'' AND fields IS NOT NULL AND fields >= '''' AND fields < x'''' AND hlc IS NOT NULL
          AND field IS NULL AND value IS NULL AND parents IS NULL)
         OR (kind = ''record'' AND fields IS NOT NULL AND fields >= '''' AND field IS NULL AND hlc IS NULL
             AND value IS NULL)
         OR (kind = ''edit'' AND fields IS NULL AND field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL
             AND value IS NOT NULL)),
  CHECK ((household IS NOT NULL AND village IS NOT NULL)
         OR tbl = ''audit'' OR tbl = ''forms'' OR tbl = ''thresholds'' OR tbl = ''divisions''),
  CHECK ((tbl <> ''forms'' AND tbl <> ''thresholds'' AND tbl <> ''divisions'')
         OR (kind = ''record'' AND household IS NULL AND village IS NULL AND device = 0))
) STRICT'
  WHERE type = 'table' AND name = 'changes' AND sql = 'CREATE TABLE changes (
  cursor INTEGER PRIMARY KEY,
  device INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind = ''edits'' OR kind = ''record'' OR kind = ''edit''),
  tbl TEXT NOT NULL,
  record_id TEXT NOT NULL,
  field TEXT,
  hlc TEXT,
  parents TEXT,
  household TEXT,
  village TEXT,
  value TEXT,
  fields ANY,
  wall TEXT,
  received_at INTEGER NOT NULL,
  digest TEXT CHECK (digest IS NULL OR length (digest) = 64),
  ikey INTEGER,
  vkey INTEGER,
  CHECK (fields IS NULL OR (fields >= '''' AND (fields < x'''' OR kind = ''record''))),
  CHECK (kind <> ''edit'' OR (field IS NOT NULL AND hlc IS NOT NULL AND parents IS NOT NULL
                            AND value IS NOT NULL AND fields IS NULL)),
  CHECK (kind <> ''record'' OR (fields IS NOT NULL AND field IS NULL AND hlc IS NULL AND value IS NULL)),
  CHECK (kind <> ''edits'' OR (fields IS NOT NULL AND hlc IS NOT NULL AND field IS NULL AND value IS NULL
                             AND parents IS NULL)),
  CHECK ((household IS NOT NULL AND village IS NOT NULL)
         OR tbl = ''audit'' OR tbl = ''forms'' OR tbl = ''thresholds'' OR tbl = ''divisions''),
  CHECK ((tbl <> ''forms'' AND tbl <> ''thresholds'' AND tbl <> ''divisions'')
         OR (kind = ''record'' AND household IS NULL AND village IS NULL AND device = 0))
) STRICT';
PRAGMA writable_schema = RESET;

-- The checks: a constraint that fails stops the migration with its name.
CREATE TEMP TABLE check_0023 (
  published_kept INTEGER NOT NULL
    CONSTRAINT "the published records' cursors differ from the change log's published records" CHECK (published_kept),
  checks_changed INTEGER NOT NULL
    CONSTRAINT "the change log's table is not as 0022 made it: its CHECKs were not changed" CHECK (checks_changed),
  rows_pass INTEGER NOT NULL
    CONSTRAINT "a change of the log does not pass its new CHECK" CHECK (rows_pass)
) STRICT;
INSERT INTO check_0023 (published_kept, checks_changed, rows_pass)
  SELECT (SELECT count (*) FROM published_cursors)
           = (SELECT count (*) FROM changes WHERE tbl = 'forms' OR tbl = 'thresholds' OR tbl = 'divisions')
         AND NOT EXISTS (SELECT 1 FROM published_cursors p LEFT JOIN changes c ON c.cursor = p.cursor
                         WHERE c.tbl IS NULL OR (c.tbl <> 'forms' AND c.tbl <> 'thresholds' AND c.tbl <> 'divisions')),
         (SELECT count (*) FROM sqlite_schema WHERE type = 'table' AND name = 'changes'
            AND sql LIKE '%CHECK ((kind = ''edits'' AND fields IS NOT NULL%') = 1,
         NOT EXISTS (SELECT 1 FROM changes
                     WHERE NOT ((kind = 'edits' AND fields IS NOT NULL AND fields >= '' AND fields < x''
                                 AND hlc IS NOT NULL AND field IS NULL AND value IS NULL AND parents IS NULL)
                                OR (kind = 'record' AND fields IS NOT NULL AND fields >= '' AND field IS NULL
                                    AND hlc IS NULL AND value IS NULL)
                                OR (kind = 'edit' AND fields IS NULL AND field IS NOT NULL AND hlc IS NOT NULL
                                    AND parents IS NOT NULL AND value IS NOT NULL)));
DROP TABLE temp.check_0023;

DROP INDEX changes_published;
