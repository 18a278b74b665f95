/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-state.c: libFuzzer entry point for a record_state.state text read by the center's writer. */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one input through hearth_fuzz_state().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_state (data, size);
  return 0;
}
