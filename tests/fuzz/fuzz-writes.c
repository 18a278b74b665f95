/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-writes.c: libFuzzer entry point for a write's row of the store
 * (record_writes, migration 0014). */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one write's row through hearth_fuzz_writes().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_writes (data, size);
  return 0;
}
