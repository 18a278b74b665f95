/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-apply.c: libFuzzer entry point for a pulled page applied to a device store. */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one input through hearth_fuzz_apply().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_apply (data, size);
  return 0;
}
