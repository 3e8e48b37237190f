/* models/queue/queue_theory.c: Erlang C and Pollaczek-Khinchine (see
 * queue_theory.h). Textbook forms: Kleinrock, Queueing Systems vol. 1,
 * sections 3.5 (M/M/m) and 5.6 (M/G/1). */
#include "models/queue/queue_theory.h"

#include <math.h>

double queue_erlang_c(int c, double a)
{
  if (c < 1 || !(a >= 0) || a >= c) return NAN;
  double b = 1.0;                      /* Erlang B with 0 servers */
  for (int k = 1; k <= c; k++) b = a * b / (k + a * b);
  return c * b / (c - a * (1 - b));
}

double queue_mmc_wait_mean(int c, double lambda, double mu)
{
  double a = lambda / mu;
  double pc = queue_erlang_c(c, a);
  return pc / (c * mu - lambda);
}

double queue_mmc_wait_quantile(int c, double lambda, double mu, double p)
{
  double pc = queue_erlang_c(c, lambda / mu);
  if (isnan(pc)) return NAN;
  if (p <= 1 - pc) return 0;
  return log(pc / (1 - p)) / (c * mu - lambda);
}

double queue_mg1_wait_mean(double lambda, double service_mean, double service_var)
{
  double rho = lambda * service_mean;
  if (!(rho < 1)) return NAN;
  double es2 = service_var + service_mean * service_mean;
  return lambda * es2 / (2 * (1 - rho));
}
