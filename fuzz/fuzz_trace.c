/* fuzz/fuzz_trace.c: libFuzzer harness of the CSV trace reader: the input
 * is a trace's text, read with the Azure columns (a time column and two
 * integer columns), as a serving scenario's trace is. */
#include <stddef.h>
#include <stdint.h>

#include "driver/config/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const sim_trace_column cols[] = {{"ContextTokens", 1}, {"GeneratedTokens", 0}};
  sim_trace tr;
  cfg_errors errs;
  cfg_errors_init(&errs, "fuzz.csv");
  if (cfg_trace_parse(&tr, "fuzz.csv", (const char *)data, size, "TIMESTAMP", cols, 2, &errs))
    sim_trace_release(&tr);
  cfg_errors_release(&errs);
  return 0;
}
