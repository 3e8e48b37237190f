/* driver/config/duration.h: durations as users write them, for every
 * seconds-valued setting and flag: a plain number of seconds ("90",
 * "1.5e3") or numbers with units, largest first ("9h", "90m", "1h30m",
 * "2d", "1.5h", "250ms"). Part of the driver. */
#ifndef DRIVER_CONFIG_DURATION_H
#define DRIVER_CONFIG_DURATION_H

#include <stdbool.h>
#include <stddef.h>

/* The units accepted, for help texts: "d, h, m, s, ms, us, ns". */
extern const char cfg_duration_units[];

/* Parse `text` into seconds. Units: d (86,400 s), h, m, s, ms, us, ns; each
 * at most once and in that order; a leading '-' negates the whole. False
 * with the reason in why (NUL-terminated, n bytes) when it is not a
 * duration or is not finite. */
bool cfg_duration_parse(const char *text, double *seconds, char *why, size_t n);

#endif
