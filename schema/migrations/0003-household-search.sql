-- Household search (app/case-search.h): by any part of a name (the head's
-- or any member's), from one character up; by the last digits of an ID
-- number (the head's or any member's); by village code prefix; in the
-- order village code, head name, id, paged by key.
--
-- household_search holds, for every household that is not a tombstone,
-- one row per search key, already in result order after the key:
--   'n' || c       every single character of every name (ASCII lowercased)
--   'n' || c1 c2   every pair of adjacent characters of every name
--   'i' || dddd    the last four characters of every ID number (X upper)
-- A query of one or two characters is one key, read in result order; a
-- longer one reads the rarest pair of its characters and checks the whole
-- query against the names (FTS5's trigram tokenizer finds nothing below
-- three characters, so one table serves every length). Triggers below keep
-- it in step with households and members: writers do nothing.
CREATE TABLE household_search (
  key          TEXT NOT NULL,
  village_code TEXT NOT NULL,
  head_name    TEXT NOT NULL,
  household_id TEXT NOT NULL,
  PRIMARY KEY (key, village_code, head_name, household_id)
) WITHOUT ROWID;
CREATE INDEX household_search_household ON household_search (household_id);

-- 1 .. 100: the character positions the triggers cut names at (triggers
-- cannot use a recursive WITH). Characters past the 100th are not indexed.
CREATE TABLE search_positions (n INTEGER PRIMARY KEY);
WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100)
INSERT INTO search_positions (n) SELECT n FROM c;

-- The order of results without a text query, and of open tasks by date.
CREATE INDEX households_search_order ON households (village_code, head_name, id) WHERE deleted = 0;
CREATE INDEX tasks_open_order ON tasks (due_date, id) WHERE status = 'open';

-- Inserting a household id here recomputes all its keys (nothing is
-- stored in the view itself).
CREATE VIEW household_search_refresh (household_id) AS SELECT NULL WHERE 0;

CREATE TRIGGER household_search_refresh_insert INSTEAD OF INSERT ON household_search_refresh
BEGIN
  DELETE FROM household_search WHERE household_id = NEW.household_id;
  INSERT OR IGNORE INTO household_search (key, village_code, head_name, household_id)
    SELECT 'n' || lower (substr (s.name, p.n, w.w)), h.village_code, h.head_name, h.id
    FROM households AS h,
         (SELECT head_name AS name FROM households WHERE id = NEW.household_id
          UNION ALL
          SELECT name FROM members WHERE household_id = NEW.household_id AND deleted = 0) AS s,
         search_positions AS p,
         (SELECT 1 AS w UNION ALL SELECT 2) AS w
    WHERE h.id = NEW.household_id AND h.deleted = 0 AND p.n + w.w - 1 <= length (s.name);
  INSERT OR IGNORE INTO household_search (key, village_code, head_name, household_id)
    SELECT 'i' || upper (substr (s.number, -4)), h.village_code, h.head_name, h.id
    FROM households AS h,
         (SELECT head_id_number AS number FROM households WHERE id = NEW.household_id
          UNION ALL
          SELECT id_number FROM members WHERE household_id = NEW.household_id AND deleted = 0) AS s
    WHERE h.id = NEW.household_id AND h.deleted = 0 AND length (s.number) >= 4;
END;

CREATE TRIGGER household_search_households_insert AFTER INSERT ON households
BEGIN
  INSERT INTO household_search_refresh (household_id) VALUES (NEW.id);
END;

CREATE TRIGGER household_search_households_update
AFTER UPDATE OF id, village_code, head_name, head_id_number, deleted ON households
BEGIN
  DELETE FROM household_search WHERE household_id = OLD.id AND OLD.id <> NEW.id;
  INSERT INTO household_search_refresh (household_id) VALUES (NEW.id);
END;

CREATE TRIGGER household_search_households_delete AFTER DELETE ON households
BEGIN
  DELETE FROM household_search WHERE household_id = OLD.id;
END;

-- A new member only adds keys (the common case of a registry import).
CREATE TRIGGER household_search_members_insert AFTER INSERT ON members
WHEN NEW.deleted = 0
BEGIN
  INSERT OR IGNORE INTO household_search (key, village_code, head_name, household_id)
    SELECT 'n' || lower (substr (NEW.name, p.n, w.w)), h.village_code, h.head_name, h.id
    FROM households AS h, search_positions AS p, (SELECT 1 AS w UNION ALL SELECT 2) AS w
    WHERE h.id = NEW.household_id AND h.deleted = 0 AND p.n + w.w - 1 <= length (NEW.name);
  INSERT OR IGNORE INTO household_search (key, village_code, head_name, household_id)
    SELECT 'i' || upper (substr (NEW.id_number, -4)), h.village_code, h.head_name, h.id
    FROM households AS h
    WHERE h.id = NEW.household_id AND h.deleted = 0 AND length (NEW.id_number) >= 4;
END;

CREATE TRIGGER household_search_members_update
AFTER UPDATE OF household_id, name, id_number, deleted ON members
BEGIN
  INSERT INTO household_search_refresh (household_id)
    SELECT OLD.household_id WHERE OLD.household_id <> NEW.household_id;
  INSERT INTO household_search_refresh (household_id) VALUES (NEW.household_id);
END;

CREATE TRIGGER household_search_members_delete AFTER DELETE ON members
BEGIN
  INSERT INTO household_search_refresh (household_id) VALUES (OLD.household_id);
END;

-- Households written before this migration.
INSERT INTO household_search_refresh (household_id) SELECT id FROM households;
