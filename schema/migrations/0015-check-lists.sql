-- The CHECKs comparing a column with a list of three values or more
-- (`x IN ('a', 'b', 'c')`) are written `x = 'a' OR x = 'b' OR x = 'c'`:
-- for such a list SQLite builds a temporary index each time a statement
-- checks the constraint (once a statement, and once a row in a trigger's
-- statements), some 4,000 of them in a fresh device's village pull
-- (docs/operations.md). Both forms accept and refuse the same values
-- (the columns are NOT NULL, and both compare with the column's affinity
-- and collation).
--
-- The tables are not rebuilt (SQLite's 12-step procedure needs foreign
-- keys off, which cannot be changed inside the migration's transaction,
-- and households is referenced by members, submissions, tasks and
-- reviews): the CHECK texts are replaced in sqlite_schema, as SQLite's
-- documentation of ALTER TABLE allows for changing CHECK constraints that
-- the rows already satisfy, which they do since they are the same
-- constraints. Every replacement is checked below (the migration fails,
-- and changes nothing, if a text was not found); the connection's schema
-- is read again (writable_schema = RESET) and the schema version is
-- advanced by the check table's CREATE and DROP, so that every other
-- connection reads the new texts too.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema
SET sql = replace (replace (replace (sql,
  'CHECK (category IN ('''', ''0'', ''1'', ''2''))',
  'CHECK (category = '''' OR category = ''0'' OR category = ''1'' OR category = ''2'')'),
  'CHECK (risk_level IN (''red'', ''orange'', ''yellow'', ''none''))',
  'CHECK (risk_level = ''red'' OR risk_level = ''orange'' OR risk_level = ''yellow'' OR risk_level = ''none'')'),
  'CHECK (monitoring_status IN (
                      ''none'', ''pending_village_review'', ''returned'', ''pending_county_approval'',
                      ''monitored'', ''pending_elimination'', ''risk_eliminated''))',
  'CHECK (
                      monitoring_status = ''none'' OR monitoring_status = ''pending_village_review'' OR
                      monitoring_status = ''returned'' OR monitoring_status = ''pending_county_approval'' OR
                      monitoring_status = ''monitored'' OR monitoring_status = ''pending_elimination'' OR
                      monitoring_status = ''risk_eliminated'')')
WHERE type = 'table' AND name = 'households';

UPDATE sqlite_schema
SET sql = replace (sql,
  'CHECK (status IN (''open'', ''done'', ''cancelled''))',
  'CHECK (status = ''open'' OR status = ''done'' OR status = ''cancelled'')')
WHERE type = 'table' AND name = 'tasks';

UPDATE sqlite_schema
SET sql = replace (sql,
  'CHECK (role IN (''worker'', ''clerk'', ''township'', ''county''))',
  'CHECK (role = ''worker'' OR role = ''clerk'' OR role = ''township'' OR role = ''county'')')
WHERE type = 'table' AND name = 'reviews';

UPDATE sqlite_schema
SET sql = replace (replace (sql,
  'CHECK (kind IN (''edit'', ''edits'', ''record''))',
  'CHECK (kind = ''edit'' OR kind = ''edits'' OR kind = ''record'')'),
  'CHECK (state IN (''pending'', ''acked'', ''refused''))',
  'CHECK (state = ''pending'' OR state = ''acked'' OR state = ''refused'')')
WHERE type = 'table' AND name = 'sync_outbox';

UPDATE sqlite_schema
SET sql = replace (sql,
  'CHECK (kind IN (''form'', ''thresholds'', ''divisions''))',
  'CHECK (kind = ''form'' OR kind = ''thresholds'' OR kind = ''divisions'')')
WHERE type = 'table' AND name = 'published_forms';

PRAGMA writable_schema = RESET;

-- Every table's text holds its new CHECKs (one row a table, 5 in all),
-- and no table's a list of three (a `x IN ('…', '…', '…'` with the
-- column's name is gone from all of them).
CREATE TABLE migration_0015_check (replaced INTEGER NOT NULL CHECK (replaced = 5));
INSERT INTO migration_0015_check (replaced)
  SELECT count(*) FROM sqlite_schema
  WHERE type = 'table'
    AND ((name = 'households'
          AND instr (sql, 'CHECK (category = '''' OR') > 0
          AND instr (sql, 'CHECK (risk_level = ''red'' OR') > 0
          AND instr (sql, 'monitoring_status = ''risk_eliminated'')') > 0
          AND instr (sql, 'IN (''''') = 0 AND instr (sql, 'IN (''red''') = 0
          AND instr (sql, 'monitoring_status IN (') = 0)
      OR (name = 'tasks' AND instr (sql, 'CHECK (status = ''open'' OR') > 0
          AND instr (sql, 'status IN (') = 0)
      OR (name = 'reviews' AND instr (sql, 'CHECK (role = ''worker'' OR') > 0
          AND instr (sql, 'role IN (') = 0)
      OR (name = 'sync_outbox' AND instr (sql, 'CHECK (kind = ''edit'' OR') > 0
          AND instr (sql, 'CHECK (state = ''pending'' OR') > 0
          AND instr (sql, 'kind IN (') = 0 AND instr (sql, 'state IN (') = 0)
      OR (name = 'published_forms' AND instr (sql, 'CHECK (kind = ''form'' OR') > 0
          AND instr (sql, 'kind IN (') = 0));
DROP TABLE migration_0015_check;

-- A trigger's `h.id IN (OLD.household_id, NEW.household_id)` looks the
-- households up through a temporary table too, built each time the
-- trigger runs (each task whose status a pull changes): the households
-- before and after are looked up by one statement each, in the list's
-- order (the smaller id first), the second only when it is another
-- household (both are NOT NULL): the same rows, written in the same
-- order.
DROP TRIGGER routine_visit_tasks_update;
CREATE TRIGGER routine_visit_tasks_update AFTER UPDATE OF household_id, status ON tasks
BEGIN
  DELETE FROM routine_visit_queue WHERE household_id = NEW.household_id AND NEW.status = 'open';
  INSERT OR REPLACE INTO routine_visit_queue (household_id, priority, last_visit_date)
    SELECT h.id, (h.monitoring_status NOT IN ('none', 'risk_eliminated') OR h.risk_level <> 'none'), h.last_visit_date
    FROM households AS h
    WHERE h.id = min (OLD.household_id, NEW.household_id) AND h.deleted = 0
      AND NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.household_id = h.id AND t.status = 'open');
  INSERT OR REPLACE INTO routine_visit_queue (household_id, priority, last_visit_date)
    SELECT h.id, (h.monitoring_status NOT IN ('none', 'risk_eliminated') OR h.risk_level <> 'none'), h.last_visit_date
    FROM households AS h
    WHERE OLD.household_id <> NEW.household_id AND h.id = max (OLD.household_id, NEW.household_id)
      AND h.deleted = 0
      AND NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.household_id = h.id AND t.status = 'open');
END;

DROP TRIGGER household_search_members_update;
CREATE TRIGGER household_search_members_update
AFTER UPDATE OF household_id, name, id_number, deleted ON members
BEGIN
  INSERT INTO household_search_remove (household_id, village_code, head_name, name, number)
    SELECT h.id, h.village_code, h.head_name, OLD.name, OLD.id_number
    FROM households AS h WHERE OLD.deleted = 0 AND h.id = OLD.household_id AND h.deleted = 0;
  INSERT INTO household_search_add (household_id, village_code, head_name, name, number)
    SELECT h.id, h.village_code, h.head_name, s.name, s.number
    FROM households AS h, household_search_names AS s
    WHERE h.id = min (OLD.household_id, NEW.household_id) AND h.deleted = 0 AND s.household_id = h.id;
  INSERT INTO household_search_add (household_id, village_code, head_name, name, number)
    SELECT h.id, h.village_code, h.head_name, s.name, s.number
    FROM households AS h, household_search_names AS s
    WHERE OLD.household_id <> NEW.household_id AND h.id = max (OLD.household_id, NEW.household_id)
      AND h.deleted = 0
      AND s.household_id = h.id;
END;
