/* sim/util.h: process-wide helpers every module may use: allocation that
 * aborts on exhaustion (xmalloc & co.) and SIM_BUG for broken invariants.
 * User errors never go through here; they are reported by the driver. */
#ifndef SIM_UTIL_H
#define SIM_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Allocate or abort with a message naming the size; never returns NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Copy of s in fresh heap storage, owned by the caller (free()). */
char *xstrdup(const char *s);

/* Report a broken invariant: where, and (when an engine is running) the
 * simulated time, then abort(). For bugs, never for user input. */
_Noreturn void sim_bug_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define SIM_BUG(...) sim_bug_at(__FILE__, __LINE__, __VA_ARGS__)
#define SIM_ASSERT(cond) \
  do { if (!(cond)) SIM_BUG("assertion failed: %s", #cond); } while (0)

/* Where SIM_BUG reads the simulated time (ns) from; the running engine
 * points it at its clock, NULL when none runs. */
extern const int64_t *sim_bug_clock;

#endif
