/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "store-error.h"

G_DEFINE_QUARK (hearth-store-error-quark, hearth_store_error)
