/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * schema-migrate.h: ordered SQL migrations tracked by PRAGMA user_version.
 *
 * A migration is a file NNNN-name.sql (four digits, numbered from 0001
 * without gaps). The built-in ones are compiled into the program from
 * schema/migrations/. Each is applied in its own transaction together with
 * the new user_version, so a failure leaves the database as it was.
 */
#pragma once

#include <glib.h>
#include <gio/gio.h>
#include <sqlite3.h>

G_BEGIN_DECLS

typedef struct {
  guint version;
  char *name;   /* the file name, e.g. "0001-store-meta.sql" */
  char *sql;
} HearthMigration;

/**
 * hearth_migrations_load_builtin:
 *
 * Returns: (transfer full) (element-type HearthMigration): the migrations
 *   compiled into Hearth, in order. Thread-safe.
 */
GPtrArray *hearth_migrations_load_builtin (GError **error);

/**
 * hearth_migrations_load_resource:
 * @resource: a compiled resource bundle
 * @path: the folder in @resource that holds NNNN-name.sql files
 *
 * Returns: (transfer full) (element-type HearthMigration) (nullable): the
 *   migrations in order, or %NULL with a G_RESOURCE_ERROR for a missing
 *   folder or HEARTH_STORE_ERROR_MIGRATION naming a badly named, duplicate
 *   or missing number. Thread-safe. (The county center keeps its own
 *   migrations, schema/center/, in a bundle of its own.)
 */
GPtrArray *hearth_migrations_load_resource (GResource  *resource,
                                            const char *path,
                                            GError    **error);

/**
 * hearth_migrations_load_dir:
 * @dir: a folder of NNNN-name.sql files
 *
 * Returns: (transfer full) (element-type HearthMigration) (nullable): the
 *   migrations in order, or %NULL with HEARTH_STORE_ERROR_MIGRATION naming
 *   a badly named, duplicate or missing number.
 */
GPtrArray *hearth_migrations_load_dir (const char *dir,
                                       GError    **error);

/**
 * hearth_migrations_apply:
 * @db: an open connection
 * @migrations: (element-type HearthMigration): from one of the loaders
 *
 * Applies, in order and each in one transaction, every migration newer than
 * the database's user_version. Safe against a concurrent process doing the
 * same (BEGIN IMMEDIATE, then the version is read again).
 *
 * Returns: %TRUE, or %FALSE with HEARTH_STORE_ERROR_NEWER_SCHEMA (the
 *   database is newer than every migration known here) or
 *   HEARTH_STORE_ERROR_MIGRATION (naming the file and SQLite's message;
 *   that migration and the later ones were not applied).
 */
gboolean hearth_migrations_apply (sqlite3   *db,
                                  GPtrArray *migrations,
                                  GError   **error);

guint hearth_migrations_latest (GPtrArray *migrations);

G_END_DECLS
