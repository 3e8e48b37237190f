/* driver/output/json.h: rendering a report: as JSON (summary.json: one flat object,
 * keys in report order, numbers in the shortest form that reads back to the
 * same double, NaN and infinities as null), and as a table for people.
 * Part of the driver. */
#ifndef DRIVER_OUTPUT_JSON_H
#define DRIVER_OUTPUT_JSON_H

#include <stdio.h>

#include "sim/report.h"

/* Write s as a JSON string literal (quotes and escapes); bytes that are
 * not well-formed UTF-8 become U+FFFD, so that the text is always JSON. */
void out_json_string(FILE *f, const char *s);
/* Write x as a JSON number (or null). */
void out_json_number(FILE *f, double x);
/* Write the whole report as a JSON object followed by a newline. */
void out_json_report(FILE *f, const sim_report *r);
/* Write the report as a readable table: label, value, key; one per line,
 * labels padded to label_width. */
void out_text_report(FILE *f, const sim_report *r, int label_width);

#endif
