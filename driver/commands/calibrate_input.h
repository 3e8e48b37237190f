/* driver/commands/calibrate_input.h: measurement files for `clustersim
 * calibrate`, read into step observations (models/calibrate). Two kinds,
 * told apart by their first character ('{': JSON, else CSV):
 *
 * - Step times, CSV (RFC 4180, libcsv) with a header: `step_time_ms` or
 *   `step_time_s` (required), and the batch the step ran: `prefill_tokens`
 *   (prompt tokens computed), `prefill_seqs` (sequences they belong to;
 *   default 1 when prefill_tokens > 0), `prefill_cached` (tokens of each of
 *   them already in the KV cache, mean; default 0), `prefill_done` (of
 *   those, prompts that end in this step; default prefill_seqs),
 *   `decode_seqs`, `decode_context` (their mean context, tokens), `count`
 *   (steps the row averages; its residual weighs sqrt(count); default 1).
 *   Other columns are ignored. This is what an engine's step log gives.
 *
 * - A result of vLLM's benchmarks/benchmark_serving.py (`--save-result`),
 *   or SGLang's bench_serving with the same keys. It yields at most two
 *   observations: a decode step at the mean number of running requests
 *   (max_concurrency for a closed-loop run at request_rate inf, else
 *   Little's law: completed / duration x the mean decode time), at the mean
 *   context (input + output / 2), taking median_tpot_ms; and, when that mean
 *   is at most 1.5 requests, a prefill of the mean prompt taking
 *   median_ttft_ms (marked first_token: the command adds the stack's
 *   front-end time, frontend_request_s, to its prediction). Per-request arrays (input_lens, output_lens,
 *   ttfts, itls) are used for the means when present.
 */
#ifndef DRIVER_COMMANDS_CALIBRATE_INPUT_H
#define DRIVER_COMMANDS_CALIBRATE_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "driver/config/cfg.h"
#include "driver/config/source.h"
#include "models/calibrate/calibrate.h"

/* A growing array of observations; the caller owns `v` (free it). */
typedef struct {
  cal_obs *v;
  size_t n, cap;
} calib_obs_list;

/* Read the measurement file at path (through rd: size limit, regular file
 * only) and append its observations to out. False, with every problem as
 * "path:line: column: what is wrong" (CSV) or "path: key: what is wrong"
 * (JSON) in errs, when the file cannot be used; nothing is appended then. */
bool calib_read(const cfg_reader *rd, const char *path, calib_obs_list *out, cfg_errors *errs);

#endif
