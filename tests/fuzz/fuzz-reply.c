/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-reply.c: libFuzzer entry point for the tablet's reading of the
 * center's replies. */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one reply body through hearth_fuzz_reply().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_reply (data, size);
  return 0;
}
