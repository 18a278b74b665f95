/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-versions.c: libFuzzer entry point for the reader of a record's
 * field versions. */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one record's field versions through hearth_fuzz_versions().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_versions (data, size);
  return 0;
}
