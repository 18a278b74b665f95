/* SPDX-License-Identifier: GPL-3.0-or-later */
/* fuzz-xpath-eval.c: libFuzzer entry point for hearth_xpath_evaluate(). */
#include "fuzz-targets.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/**
 * LLVMFuzzerTestOneInput:
 * @data: (array length=size): the input libFuzzer chose
 * @size: its length
 *
 * Runs one XPath expression (its first line), over the instance the rest
 * holds or a fixed one, through hearth_fuzz_xpath_eval().
 *
 * Returns: 0, as libFuzzer requires.
 */
int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  hearth_fuzz_xpath_eval (data, size);
  return 0;
}
