/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * test-center-util.h: a real hearth-center for the tests: its admin
 * commands, and its server on a free port of 127.0.0.1 (killed with the
 * test program if the test dies). Row counts are read from its database.
 */
#pragma once

#include "test-util.h"

#include <gio/gio.h>

/* A center: a folder, its store, a server when started. */
typedef struct {
  char *dir;
  char *db_path;
  char *db;        /* "sqlite:PATH" */
  char *key_path;  /* the county secret key */
  GSubprocess *server;
  char *base;      /* "http://127.0.0.1:PORT" */
  char *ca_file;   /* the certificate to trust, when it serves HTTPS */
  char *log_path;  /* the server's stderr */
} Center;

/* Runs hearth-center with @args (English messages); fills @r. */
void run_centerv (TestRun *r, const char *const *args);
void run_center (TestRun *r, const char *first, ...) G_GNUC_NULL_TERMINATED;

/* A TCP port of 127.0.0.1 free a moment ago. */
guint test_free_port (void);

/* An initialised center for @county in a new test folder @name. */
Center *center_init (const char *name, const char *county);
void center_free (Center *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Center, center_free)

void center_add_user (Center *c, const char *name, const char *role, const char *scope);
/* A one-time enrolment code for @user. */
char *center_enrol_code (Center *c, const char *user);

/* Starts the server and waits until it answers; with @cert and @key on
 * HTTPS. */
void center_start_full (Center *c, const char *cert, const char *key);
void center_start (Center *c);
/* SIGTERM; asserts a clean exit (status 0). */
void center_stop (Center *c);
gboolean center_running (Center *c);

gint64 center_db_int (Center *c, const char *sql);
char *center_db_text (Center *c, const char *sql);
void center_db_exec (Center *c, const char *sql);
