-- The households due for a routine visit (../shared/DOMAIN.md, "The
-- procedure", 8: every household once a quarter, priority households
-- monthly; case-search.h, hearth_case_visits_due()). A household with an
-- open task is on the task list already, and in a store the app filled
-- nearly every household has one (each visit opens the next follow-up):
-- a query that skipped them one by one would read the whole county to
-- find none. So this table holds only the households that are not
-- tombstones and have no open task, with what orders them, kept in step
-- by the triggers below (whoever writes households or tasks does nothing
-- more), and the list reads it by key: never visited first, then by last
-- visit date, a page at a time.
--
-- priority: a household in the monitoring procedure (identified or on its
-- way to be, or on its way out) or with a risk level.
CREATE TABLE routine_visit_queue (
  household_id    TEXT PRIMARY KEY NOT NULL,
  priority        INTEGER NOT NULL CHECK (priority IN (0, 1)),
  last_visit_date TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX routine_visit_queue_order ON routine_visit_queue (priority, last_visit_date, household_id);

-- The triggers are plain statements, no procedure through a view: the
-- case store prepares its statements as it writes, and every statement
-- that writes households or tasks compiles these with it.
CREATE TRIGGER routine_visit_households_insert AFTER INSERT ON households
WHEN NEW.deleted = 0
BEGIN
  INSERT OR REPLACE INTO routine_visit_queue (household_id, priority, last_visit_date)
    SELECT NEW.id, (NEW.monitoring_status NOT IN ('none', 'risk_eliminated') OR NEW.risk_level <> 'none'),
           NEW.last_visit_date
    WHERE NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.household_id = NEW.id AND t.status = 'open');
END;

CREATE TRIGGER routine_visit_households_update
AFTER UPDATE OF id, deleted, monitoring_status, risk_level, last_visit_date ON households
BEGIN
  DELETE FROM routine_visit_queue WHERE household_id = OLD.id;
  INSERT OR REPLACE INTO routine_visit_queue (household_id, priority, last_visit_date)
    SELECT NEW.id, (NEW.monitoring_status NOT IN ('none', 'risk_eliminated') OR NEW.risk_level <> 'none'),
           NEW.last_visit_date
    WHERE NEW.deleted = 0
      AND NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.household_id = NEW.id AND t.status = 'open');
END;

CREATE TRIGGER routine_visit_households_delete AFTER DELETE ON households
BEGIN
  DELETE FROM routine_visit_queue WHERE household_id = OLD.id;
END;

-- An open task takes its household off; the household comes back when it
-- has none open (the statement below, for the task's household before and
-- after the change).
CREATE TRIGGER routine_visit_tasks_insert AFTER INSERT ON tasks
WHEN NEW.status = 'open'
BEGIN
  DELETE FROM routine_visit_queue WHERE household_id = NEW.household_id;
END;

CREATE TRIGGER routine_visit_tasks_update AFTER UPDATE OF household_id, status ON tasks
BEGIN
  DELETE FROM routine_visit_queue WHERE household_id = NEW.household_id AND NEW.status = 'open';
  INSERT OR REPLACE INTO routine_visit_queue (household_id, priority, last_visit_date)
    SELECT h.id, (h.monitoring_status NOT IN ('none', 'risk_eliminated') OR h.risk_level <> 'none'), h.last_visit_date
    FROM households AS h
    WHERE h.id IN (OLD.household_id, NEW.household_id) AND h.deleted = 0
      AND NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.household_id = h.id AND t.status = 'open');
END;

CREATE TRIGGER routine_visit_tasks_delete AFTER DELETE ON tasks
WHEN OLD.status = 'open'
BEGIN
  INSERT OR REPLACE INTO routine_visit_queue (household_id, priority, last_visit_date)
    SELECT h.id, (h.monitoring_status NOT IN ('none', 'risk_eliminated') OR h.risk_level <> 'none'), h.last_visit_date
    FROM households AS h
    WHERE h.id = OLD.household_id AND h.deleted = 0
      AND NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.household_id = h.id AND t.status = 'open');
END;

-- The households the store holds already.
INSERT INTO routine_visit_queue (household_id, priority, last_visit_date)
  SELECT h.id, (h.monitoring_status NOT IN ('none', 'risk_eliminated') OR h.risk_level <> 'none'), h.last_visit_date
  FROM households AS h
  WHERE h.deleted = 0 AND NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.household_id = h.id AND t.status = 'open');
