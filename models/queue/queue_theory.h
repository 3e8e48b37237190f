/* models/queue/queue_theory.h: closed-form queueing results used to label
 * runs with their theoretical values and to test the engine against them.
 * Pure functions; rates per second, times in seconds. */
#ifndef QUEUE_THEORY_H
#define QUEUE_THEORY_H

/* Erlang C: probability that an arrival waits in an M/M/c queue with offered
 * load a = lambda/mu < c. Computed through the Erlang B recursion, stable for
 * large c. NaN if a >= c. */
double queue_erlang_c(int c, double a);

/* M/M/c mean wait in queue, Wq = C(c, a) / (c mu - lambda). NaN if unstable. */
double queue_mmc_wait_mean(int c, double lambda, double mu);

/* M/M/c p-quantile of the wait in queue: P(W > t) = C e^{-(c mu - lambda) t},
 * so t_p = ln(C / (1 - p)) / (c mu - lambda) when p > 1 - C, else 0. */
double queue_mmc_wait_quantile(int c, double lambda, double mu, double p);

/* M/G/1 mean wait (Pollaczek-Khinchine): Wq = lambda E[S^2] / (2 (1 - rho)),
 * given the service mean and variance. NaN if rho >= 1. */
double queue_mg1_wait_mean(double lambda, double service_mean, double service_var);

#endif
