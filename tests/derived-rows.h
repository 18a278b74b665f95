/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * derived-rows.h: the rows a device's derived tables must hold, made from
 * its records as they are (the invariants the triggers keep: migration
 * 0004's last statement, 0009's), which app/sync-apply.c writes itself
 * with the triggers off. Each selects rows in one order, to be compared
 * as text with the table's: tests/test-sync-store.c and the fuzz target
 * fuzz-apply.
 */
#pragma once

/* household_search: every key of every live household's names (their
 * characters one and two at a time, lowered) and the last four
 * characters of its numbers, uppered; key, village, head name, household. */
#define DERIVED_SEARCH_SQL \
  "SELECT key, village, head_name, household_id FROM (" \
  " SELECT lower (substr (s.name, p.n, w.w)) AS key, CAST (h.village_code AS INTEGER) AS village," \
  " h.head_name AS head_name, h.id AS household_id" \
  " FROM households AS h JOIN household_search_names AS s ON s.household_id = h.id" \
  " JOIN search_positions AS p ON p.n <= length (s.name)" \
  " JOIN (SELECT 1 AS w UNION ALL SELECT 2) AS w ON p.n + w.w - 1 <= length (s.name) WHERE h.deleted = 0" \
  " UNION" \
  " SELECT upper (substr (s.number, -4)), CAST (h.village_code AS INTEGER), h.head_name, h.id" \
  " FROM households AS h JOIN household_search_names AS s ON s.household_id = h.id" \
  " WHERE h.deleted = 0 AND length (s.number) >= 4) ORDER BY 1, 2, 3, 4"

/* routine_visit_queue: each live household without an open task. */
#define DERIVED_QUEUE_SQL \
  "SELECT h.id, (h.monitoring_status NOT IN ('none', 'risk_eliminated') OR h.risk_level <> 'none'), " \
  "h.last_visit_date FROM households AS h WHERE h.deleted = 0 AND NOT EXISTS (SELECT 1 FROM tasks AS t " \
  "WHERE t.household_id = h.id AND t.status = 'open') ORDER BY 1"
