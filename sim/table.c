/* sim/table.c: CSV rows for sim_table (see table.h). */
#include "sim/table.h"

#include <math.h>

void sim_table_begin(sim_table *t, FILE *f, const char *const *columns, int ncols)
{
  t->f = f;
  t->ncols = ncols;
  t->rows = 0;
  for (int i = 0; i < ncols; i++) {
    if (i) putc(',', f);
    fputs(columns[i], f);
  }
  putc('\n', f);
}

void sim_table_row(sim_table *t, const sim_cell *cells)
{
  FILE *f = t->f;
  for (int i = 0; i < t->ncols; i++) {
    if (i) putc(',', f);
    const sim_cell *c = &cells[i];
    if (c->s)
      fputs(c->s, f);
    else if (isnan(c->v))
      ;
    else if (c->v == floor(c->v) && fabs(c->v) <= 9007199254740992.0)
      fprintf(f, "%.0f", c->v);
    else
      fprintf(f, "%.15g", c->v);
  }
  putc('\n', f);
  t->rows++;
}
