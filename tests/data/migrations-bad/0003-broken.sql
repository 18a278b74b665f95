-- The first statement works, the second fails: neither may remain.
CREATE TABLE c (w TEXT);
INSERT INTO no_such_table VALUES (1);
