/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * hearth-review-page.h: the clerk's (and the county's) review screen
 * (issue 6, item 6): the cases waiting for the user's decision
 * (app/case-review.h), each with the visit that raised it and that
 * visit's answers as the form words them; approve, or send back with a
 * comment (return, or the county's reject); and the values two tablets
 * recorded differently offline, side by side, with a choice per field.
 */
#pragma once

#include <adwaita.h>

#include "hearth-session.h"

G_BEGIN_DECLS

#define HEARTH_TYPE_REVIEW_PAGE (hearth_review_page_get_type ())
G_DECLARE_FINAL_TYPE (HearthReviewPage, hearth_review_page, HEARTH, REVIEW_PAGE, GtkWidget)

HearthReviewPage *hearth_review_page_new (HearthSession *session);

/* Reads the queue and the conflicts again. */
void hearth_review_page_reload (HearthReviewPage *self);

/* Shows one case of the queue (tests; a row's tap). */
gboolean hearth_review_page_open (HearthReviewPage *self,
                                  const char       *household_id);

/* Returns: (transfer none) (nullable): the case shown. */
const char *hearth_review_page_get_household_id (HearthReviewPage *self);

/* Returns: how many cases the queue shows, and (@n_conflicts) fields with conflicts. */
guint hearth_review_page_get_counts (HearthReviewPage *self,
                                     guint            *n_conflicts);

G_END_DECLS
