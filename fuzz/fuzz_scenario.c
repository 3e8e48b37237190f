/* fuzz/fuzz_scenario.c: libFuzzer harness of the scenario loader: the
 * input is a scenario's text, loaded and checked as `clustersim check`
 * would (lexical pass, includes, libconfig, every component's keys and
 * checks, the catalogs); nothing is simulated. Any crash, sanitizer report,
 * leak (libconfig's own lexer leak aside: tests/lsan.supp) or a load slower
 * than libFuzzer's -timeout is a finding. */
#include <stddef.h>
#include <stdint.h>

#include "driver/config/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cfg_scenario sc;
  cfg_errors errs;
  /* includes and traces the input names resolve next to this name */
  cfg_errors_init(&errs, FUZZ_SCENARIO_DIR "/fuzz.cfg");
  cfg_load_opts opts = {0};
  cfg_scenario_load_text(&sc, FUZZ_SCENARIO_DIR "/fuzz.cfg", (const char *)data, size, &opts, &errs);
  cfg_scenario_release(&sc);
  cfg_errors_release(&errs);
  return 0;
}
