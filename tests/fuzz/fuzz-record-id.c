/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-record-id.c: libFuzzer entry point for the record id reader (sync/record-id.h). */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one input through hearth_fuzz_record_id().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_record_id (data, size);
  return 0;
}
