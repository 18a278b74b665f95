/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-form.c: libFuzzer entry point for hearth_form_load(). */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one XForm through hearth_fuzz_form().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_form (data, size);
  return 0;
}
