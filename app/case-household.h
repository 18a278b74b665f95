/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-household.h: one household as a person reads it: its properties,
 * its members in household order, its visits (submissions) newest first,
 * its tasks (open ones, then the latest closed) and its review history
 * newest first, with the comments. What the tablet app's household page
 * and `hearth-cli household show` need, read in one transaction so the
 * parts agree.
 */
#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

/* The most visits, closed tasks and reviews read (the newest ones): a
 * household visited monthly for years stays one quick read. */
#define HEARTH_HOUSEHOLD_MAX_VISITS 100
#define HEARTH_HOUSEHOLD_MAX_CLOSED_TASKS 20
#define HEARTH_HOUSEHOLD_MAX_REVIEWS 100

/** HearthHouseholdMember: a member that is not a tombstone; codes as stored. */
typedef struct {
  char *id;
  char *name;
  char *id_number;
  char *sex;
  char *birth_date;
  char *relation;
  char *health;
  char *labour;
} HearthHouseholdMember;

/** HearthHouseholdVisit: a submission recorded for the household. */
typedef struct {
  char *id;
  char *form_id;
  char *author;
  char *ended_at;
  char *risk_level;   /* "" when the form sets none */
} HearthHouseholdVisit;

/** HearthHouseholdTask: a follow-up or correction task. */
typedef struct {
  char *id;
  char *kind;         /* "follow_up" or "correction" */
  char *due_date;
  char *reason;
  char *status;       /* "open", "done" or "cancelled" */
  char *assignee;
} HearthHouseholdTask;

/** HearthHouseholdReview: a move of the monitoring workflow. */
typedef struct {
  char *at;
  char *actor;
  char *role;
  char *from_state;
  char *to_state;
  char *comment;
} HearthHouseholdReview;

/**
 * HearthHousehold:
 * @members: (element-type HearthHouseholdMember)
 * @visits: (element-type HearthHouseholdVisit): newest first
 * @tasks: (element-type HearthHouseholdTask): open ones by due date, then
 *   the latest closed ones
 * @reviews: (element-type HearthHouseholdReview): newest first (moves
 *   made in one second in the order this store recorded them, newest first)
 *
 * The household's properties as the households table holds them
 * (../shared/INTERFACES.md, "Forms and cases"). Free with
 * hearth_household_free().
 */
typedef struct {
  char *id;
  char *registry_no;       /* "" when none */
  char *village_code;
  char *address;
  char *head_name;
  char *head_id_number;
  char *category;
  char *phone;
  char *per_capita_income;
  char *risk_level;
  char *risk_types;        /* space-separated codes */
  char *monitoring_status;
  char *last_visit_date;
  char *next_visit_date;
  char *eliminated_on;
  gint64 member_count;
  GPtrArray *members;
  GPtrArray *visits;
  GPtrArray *tasks;
  GPtrArray *reviews;
} HearthHousehold;

void hearth_household_free (HearthHousehold *household);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthHousehold, hearth_household_free)

/**
 * hearth_case_household_read:
 * @db: an open store (hearth_store_get_db())
 * @household_id: the household's id
 *
 * Reads the household and its parts in one read transaction (or inside
 * the caller's). A tombstoned household is not found.
 *
 * Returns: (transfer full) (nullable): the household, or %NULL with
 *   HEARTH_CASE_ERROR_NOT_FOUND or _SQLITE. Not thread-safe for one @db.
 */
HearthHousehold *hearth_case_household_read (sqlite3    *db,
                                             const char *household_id,
                                             GError    **error);

G_END_DECLS
