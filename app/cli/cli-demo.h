/* SPDX-License-Identifier: GPL-3.0-or-later */
/* cli-demo.h: hearth-cli demo (cli-demo.c). */
#pragma once

#include "cli-common.h"

G_BEGIN_DECLS

/**
 * cli_cmd_demo:
 * @ctx: the global options (demo generate needs no store)
 * @argc: the arguments from "demo" on
 * @argv: (array length=argc): see @argc
 *
 * Runs `demo generate --households N [--seed S] [--county CODE] --out
 * FILE.csv`: writes a made-up county registry (demo-generate.h) that
 * `household import` takes.
 *
 * Returns: the exit code: 0 written; 1 refused (a bad county code, a file
 *   that cannot be written); 2 usage.
 */
int cli_cmd_demo (CliContext *ctx, int argc, char **argv);

G_END_DECLS
