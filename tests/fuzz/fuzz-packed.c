/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-packed.c: libFuzzer entry point for hearth_text_unpack() (store-packed.h). */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one stored value through hearth_fuzz_packed().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_packed (data, size);
  return 0;
}
