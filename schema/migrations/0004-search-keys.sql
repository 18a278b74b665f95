-- A smaller household search index (issue 4). Migration 0003's rows held
-- the 36-character household UUID twice (in the table and in a second
-- index used to delete a household's rows): about 3.2 KB per household.
--
-- Now each household has a small integer key (household_keys; not the
-- households rowid, which a VACUUM may renumber since households has a
-- TEXT primary key), and household_search holds, per search key:
--   key            one or two characters of a name (ASCII lowercased), or
--                  the last four characters of an ID number (X upper);
--                  their lengths tell them apart, so unlike 0003 no 'n'
--                  or 'i' is put in front
--   village        the household's village code as an integer (12 digits,
--                  so integer order is text order and a 6-, 9- or 12-digit
--                  prefix is an integer range)
--   head_name      the head's name
--   household_key  household_keys.key
-- The primary key is the result order after the key (village code, head
-- name; ties between equal names in one village are put in id order by
-- the query, a sort of those few rows only), so a page of a one- or
-- two-character query is still one range read from the cursor on.
--
-- There is no index by household: the triggers delete a household's rows
-- by recomputing them from the names they came from (the OLD row's), each
-- a primary key lookup. For every household that is not a tombstone, its
-- rows are exactly the keys of its names (head and members that are not
-- tombstones) with its village code and head name; every trigger below
-- keeps that true, so writers of households and members still do nothing.
DROP TRIGGER household_search_refresh_insert;
DROP TRIGGER household_search_households_insert;
DROP TRIGGER household_search_households_update;
DROP TRIGGER household_search_households_delete;
DROP TRIGGER household_search_members_insert;
DROP TRIGGER household_search_members_update;
DROP TRIGGER household_search_members_delete;
DROP VIEW household_search_refresh;
DROP INDEX household_search_household;
DROP TABLE household_search;

-- A status or risk filter without text read households in result order and
-- skipped those that did not match: a rare status (a few dozen "returned"
-- households among 50,000) read them all, about 100 ms. This index gives
-- every (status, risk level) pair its households in result order; the
-- search merges the pairs a filter allows. Partial, so that nothing but
-- the index is read to skip a household (tombstones are never found). It
-- replaces households_status (migration 0002), whose columns lead it.
DROP INDEX households_status;
CREATE INDEX households_filter_order ON households (monitoring_status, risk_level, village_code, head_name, id)
  WHERE deleted = 0;

-- Keys are never reassigned while the household row exists.
CREATE TABLE household_keys (
  key          INTEGER PRIMARY KEY,
  household_id TEXT UNIQUE NOT NULL
);

CREATE TABLE household_search (
  key           TEXT NOT NULL,
  village       INTEGER NOT NULL,
  head_name     TEXT NOT NULL,
  household_key INTEGER NOT NULL,
  PRIMARY KEY (key, village, head_name, household_key)
) WITHOUT ROWID;

-- Two procedures (triggers cannot take arguments; nothing is stored in
-- the views): inserting (household, village code, head name, a name, an
-- ID number) adds, or removes, the rows that name and number give.
CREATE VIEW household_search_add (household_id, village_code, head_name, name, number) AS
  SELECT NULL, NULL, NULL, NULL, NULL WHERE 0;
CREATE VIEW household_search_remove (household_id, village_code, head_name, name, number) AS
  SELECT NULL, NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER household_search_add_insert INSTEAD OF INSERT ON household_search_add
BEGIN
  INSERT OR IGNORE INTO household_keys (household_id) VALUES (NEW.household_id);
  INSERT OR IGNORE INTO household_search (key, village, head_name, household_key)
    SELECT lower (substr (NEW.name, p.n, w.w)), CAST (NEW.village_code AS INTEGER), NEW.head_name, k.key
    FROM household_keys AS k, (SELECT 1 AS w UNION ALL SELECT 2) AS w, search_positions AS p
    WHERE k.household_id = NEW.household_id AND p.n <= length (NEW.name) - w.w + 1;
  INSERT OR IGNORE INTO household_search (key, village, head_name, household_key)
    SELECT upper (substr (NEW.number, -4)), CAST (NEW.village_code AS INTEGER), NEW.head_name, k.key
    FROM household_keys AS k
    WHERE k.household_id = NEW.household_id AND length (NEW.number) >= 4;
END;

CREATE TRIGGER household_search_remove_insert INSTEAD OF INSERT ON household_search_remove
BEGIN
  DELETE FROM household_search
  WHERE village = CAST (NEW.village_code AS INTEGER) AND head_name = NEW.head_name
    AND household_key = (SELECT key FROM household_keys WHERE household_id = NEW.household_id)
    AND key IN (SELECT lower (substr (NEW.name, p.n, w.w))
                FROM (SELECT 1 AS w UNION ALL SELECT 2) AS w, search_positions AS p
                WHERE p.n <= length (NEW.name) - w.w + 1
                UNION ALL
                SELECT upper (substr (NEW.number, -4)) WHERE length (NEW.number) >= 4);
END;

-- A household's names now: the head's and its members' (not tombstones).
-- (A view, so the triggers below read them alike.)
CREATE VIEW household_search_names (household_id, name, number) AS
  SELECT id, head_name, head_id_number FROM households
  UNION ALL
  SELECT household_id, name, id_number FROM members WHERE deleted = 0;

CREATE TRIGGER household_search_households_insert AFTER INSERT ON households
BEGIN
  INSERT OR IGNORE INTO household_keys (household_id) VALUES (NEW.id);
  INSERT INTO household_search_add (household_id, village_code, head_name, name, number)
    SELECT NEW.id, NEW.village_code, NEW.head_name, s.name, s.number
    FROM household_search_names AS s
    WHERE NEW.deleted = 0 AND s.household_id = NEW.id;
END;

-- The old rows are those of the OLD village code, head name and names
-- (members do not change in this statement).
CREATE TRIGGER household_search_households_update
AFTER UPDATE OF id, village_code, head_name, head_id_number, deleted ON households
BEGIN
  INSERT INTO household_search_remove (household_id, village_code, head_name, name, number)
    SELECT OLD.id, OLD.village_code, OLD.head_name, OLD.head_name, OLD.head_id_number WHERE OLD.deleted = 0
    UNION ALL
    SELECT OLD.id, OLD.village_code, OLD.head_name, m.name, m.id_number
    FROM members AS m WHERE OLD.deleted = 0 AND m.household_id = OLD.id AND m.deleted = 0;
  UPDATE household_keys SET household_id = NEW.id WHERE household_id = OLD.id AND OLD.id <> NEW.id;
  INSERT INTO household_search_add (household_id, village_code, head_name, name, number)
    SELECT NEW.id, NEW.village_code, NEW.head_name, s.name, s.number
    FROM household_search_names AS s
    WHERE NEW.deleted = 0 AND s.household_id = NEW.id;
END;

CREATE TRIGGER household_search_households_delete AFTER DELETE ON households
BEGIN
  INSERT INTO household_search_remove (household_id, village_code, head_name, name, number)
    SELECT OLD.id, OLD.village_code, OLD.head_name, OLD.head_name, OLD.head_id_number WHERE OLD.deleted = 0
    UNION ALL
    SELECT OLD.id, OLD.village_code, OLD.head_name, m.name, m.id_number
    FROM members AS m WHERE OLD.deleted = 0 AND m.household_id = OLD.id AND m.deleted = 0;
  DELETE FROM household_keys WHERE household_id = OLD.id;
END;

-- A new member only adds keys (the common case of a registry import).
CREATE TRIGGER household_search_members_insert AFTER INSERT ON members
WHEN NEW.deleted = 0
BEGIN
  INSERT INTO household_search_add (household_id, village_code, head_name, name, number)
    SELECT h.id, h.village_code, h.head_name, NEW.name, NEW.id_number
    FROM households AS h WHERE h.id = NEW.household_id AND h.deleted = 0;
END;

-- Removing the keys of the member as it was may remove keys another name
-- of the household also gives: all its names now are added back.
CREATE TRIGGER household_search_members_update
AFTER UPDATE OF household_id, name, id_number, deleted ON members
BEGIN
  INSERT INTO household_search_remove (household_id, village_code, head_name, name, number)
    SELECT h.id, h.village_code, h.head_name, OLD.name, OLD.id_number
    FROM households AS h WHERE OLD.deleted = 0 AND h.id = OLD.household_id AND h.deleted = 0;
  INSERT INTO household_search_add (household_id, village_code, head_name, name, number)
    SELECT h.id, h.village_code, h.head_name, s.name, s.number
    FROM households AS h, household_search_names AS s
    WHERE h.id IN (OLD.household_id, NEW.household_id) AND h.deleted = 0 AND s.household_id = h.id;
END;

CREATE TRIGGER household_search_members_delete AFTER DELETE ON members
WHEN OLD.deleted = 0
BEGIN
  INSERT INTO household_search_remove (household_id, village_code, head_name, name, number)
    SELECT h.id, h.village_code, h.head_name, OLD.name, OLD.id_number
    FROM households AS h WHERE h.id = OLD.household_id AND h.deleted = 0;
  INSERT INTO household_search_add (household_id, village_code, head_name, name, number)
    SELECT h.id, h.village_code, h.head_name, s.name, s.number
    FROM households AS h, household_search_names AS s
    WHERE h.id = OLD.household_id AND h.deleted = 0 AND s.household_id = h.id;
END;

-- Households written before this migration: keys in result order, rows
-- inserted in primary key order (full pages).
INSERT INTO household_keys (household_id)
  SELECT id FROM households ORDER BY village_code, head_name, id;
INSERT OR IGNORE INTO household_search (key, village, head_name, household_key)
  SELECT key, village, head_name, household_key FROM (
    SELECT lower (substr (s.name, p.n, w.w)) AS key, CAST (h.village_code AS INTEGER) AS village,
           h.head_name AS head_name, k.key AS household_key
    FROM households AS h
    JOIN household_keys AS k ON k.household_id = h.id
    JOIN household_search_names AS s ON s.household_id = h.id
    JOIN search_positions AS p ON p.n <= length (s.name)
    JOIN (SELECT 1 AS w UNION ALL SELECT 2) AS w ON p.n + w.w - 1 <= length (s.name)
    WHERE h.deleted = 0
    UNION
    SELECT upper (substr (s.number, -4)), CAST (h.village_code AS INTEGER), h.head_name, k.key
    FROM households AS h
    JOIN household_keys AS k ON k.household_id = h.id
    JOIN household_search_names AS s ON s.household_id = h.id
    WHERE h.deleted = 0 AND length (s.number) >= 4)
  ORDER BY 1, 2, 3, 4;
