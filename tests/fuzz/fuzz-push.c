/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-push.c: libFuzzer entry point for the center's push body parser. */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one push body through hearth_fuzz_push_body().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_push_body (data, size);
  return 0;
}
