/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * case-identity.h: who uses a store: the user, the role and the scope
 * (the division codes they work in) kept in the store's store_meta table,
 * written by `hearth-cli init --user --role --scope`, by enrolment
 * (app/sync-run.h tells what the center answered) and read by every
 * program that opens a case store as its user
 * (../shared/INTERFACES.md, "Stores, users and keys").
 */
#pragma once

#include <glib.h>

#include "case-store.h"
#include "store.h"

G_BEGIN_DECLS

/**
 * HearthIdentity:
 * @user: the user's name (never empty: the login name when the store
 *   names nobody)
 * @role: the role in the monitoring workflow (worker when none is set)
 * @scope: (array zero-terminated=1): the division-code prefixes the user
 *   works in, possibly none
 * @named: whether the store names its user (written by init or
 *   enrolment); %FALSE: @user and @role are the defaults
 *
 * Free with hearth_identity_free().
 */
typedef struct {
  char      *user;
  HearthRole role;
  char     **scope;
  gboolean   named;
} HearthIdentity;

void hearth_identity_free (HearthIdentity *identity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HearthIdentity, hearth_identity_free)

/**
 * hearth_role_from_name:
 * @name: "worker", "clerk", "township" or "county"
 * @role: (out): the role
 *
 * Returns: %TRUE when @name is a role. Thread-safe.
 */
gboolean hearth_role_from_name (const char *name, HearthRole *role);

/**
 * hearth_role_to_name:
 *
 * Returns: (transfer none): the role's name as the store and the protocol
 *   write it. Thread-safe.
 */
const char *hearth_role_to_name (HearthRole role);

/**
 * hearth_identity_read:
 * @store: an open store
 *
 * Reads the store's user, role and scope. A role the store names but this
 * program does not know is refused rather than read as a worker's.
 *
 * Returns: (transfer full) (nullable): the identity, or %NULL with
 *   HEARTH_CASE_ERROR_INVALID (an unknown role) or _SQLITE. Not
 *   thread-safe for one @store.
 */
HearthIdentity *hearth_identity_read (HearthStore *store,
                                      GError     **error);

/**
 * hearth_identity_write:
 * @store: an open store
 * @user: the user's name (not empty, one line)
 * @role: the role
 * @scope: (nullable) (array zero-terminated=1): division-code prefixes
 *
 * Writes the three in one transaction, replacing what was there.
 *
 * Returns: %FALSE with HEARTH_CASE_ERROR_INVALID (an empty or multi-line
 *   user, a scope entry that is not 6, 9 or 12 digits) or _SQLITE;
 *   nothing is written then. Not thread-safe for one @store.
 */
gboolean hearth_identity_write (HearthStore       *store,
                                const char        *user,
                                HearthRole         role,
                                const char *const *scope,
                                GError           **error);

G_END_DECLS
