/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-enrol-page.h: enrolling the tablet with the county center
 * (sync/PROTOCOL.md section 5): the center's address and the one-time code
 * county staff gave the user, typed or pasted. Enrolment writes who the
 * user is (case-identity.h) and seals the county recovery envelope, so
 * county IT can open the data if the passphrase is forgotten. It needs a
 * network; "Later" leaves it for another day (the menu offers it again).
 */
#pragma once

#include <adwaita.h>

#include "hearth-session.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_ENROL_PAGE (hearth_enrol_page_get_type ())
G_DECLARE_FINAL_TYPE (HearthEnrolPage, hearth_enrol_page, HEARTH, ENROL_PAGE, GtkWidget)

/* @session: (nullable): the store to enrol; %NULL when locked. */
void hearth_enrol_page_set_session (HearthEnrolPage *self,
                                    HearthSession   *session);

/**
 * hearth_enrol_page_set_ca_file:
 * @path: (nullable): a CA bundle to trust (what the page's file chooser
 *   gives), or %NULL for none
 *
 * Uses @path's CA for the enrolment (kept with it for every later sync,
 * as `hearth-cli enrol --ca-file`), checked first: a file that is not a
 * PEM CA certificate is said on the page and not used.
 *
 * Returns: whether @path is now the page's CA file. Main thread only.
 */
gboolean hearth_enrol_page_set_ca_file (HearthEnrolPage *self,
                                        const char      *path);

/* Returns: (transfer full): @error from enrolling, in plain words; for a
 * refusal, the center's reason read from @center_code (nullable;
 * hearth_sync_enrol_full()) rather than its English message. */
char *hearth_enrol_page_describe_error (const GError *error,
                                        const char   *center_code);

G_END_DECLS
