/* driver/output/json_top.h: reading back one top-level member of a JSON object, the
 * way summary.json and plan.json are written (flat objects; nested objects
 * and arrays are skipped whole). Enough for tools that need a handful of
 * values from the project's own output, not a general JSON parser: no
 * validation beyond what finding the key needs. Part of the driver. */
#ifndef DRIVER_OUTPUT_JSON_TOP_H
#define DRIVER_OUTPUT_JSON_TOP_H

#include <stdbool.h>

/* The value of top-level member `key` of the object in `json` as a string
 * in fresh heap storage (caller frees): a string unescaped (\uXXXX above
 * ASCII becomes '?'), a number, true or false as written. NULL if the text
 * is not an object, the key is absent, or its value is null, an object or
 * an array. */
char *out_json_top_text(const char *json, const char *key);

/* The top-level member `key` as a finite JSON number; false if absent,
 * null or anything but a number. */
bool out_json_top_number(const char *json, const char *key, double *out);

/* The value of member `key` exactly as written (an object or array whole,
 * a string with its quotes), in fresh storage; NULL if absent. Feed an
 * object back to these functions to read inside it. */
char *out_json_top_raw(const char *json, const char *key);

/* The object's members in order: start with *pos = NULL; each call sets
 * *key and *value (fresh storage, caller frees; *value as
 * out_json_top_text gives it, so NULL for null, objects and arrays) and
 * returns true, false after the last member. */
bool out_json_top_next(const char *json, const char **pos, char **key, char **value);

#endif
