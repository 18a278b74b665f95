/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-county-key.c: libFuzzer entry point for the county key file readers. */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one county key file through hearth_fuzz_county_key().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_county_key (data, size);
  return 0;
}
