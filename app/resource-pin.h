/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

GBytes *hearth_resource_pinned (GResource *resource, const char *path, const guint8 *hash, const char *what);

G_END_DECLS
