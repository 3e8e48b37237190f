/* driver/plan/plan_run.c: running the GPU types' searches of `clustersim plan`
 * (see plan.h): here, or `jobs` at a time in worker processes (fork), each
 * handing its type's whole result back through a temporary file, so that
 * the results are the same whatever the number of workers; and the
 * SIGINT/SIGTERM handler that stops the searches here and in the workers.
 * Knows nothing of options or outputs. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/commands/cli.h"
#include "driver/plan/plan.h"

/* ---- signals ---- */

static volatile pid_t workers[SIM_PLAN_MAX_GPUS];

static void on_signal(int sig)
{
  plan_stop = sig;
  for (int i = 0; i < SIM_PLAN_MAX_GPUS; i++)
    if (workers[i] > 0) kill(workers[i], sig);
}

void plan_catch_signals(struct sigaction *old_int, struct sigaction *old_term)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, old_int);
  sigaction(SIGTERM, &sa, old_term);
}

/* ---- the searches ---- */

int plan_run_types(const plan_ctx *c, plan_type *types, const plan_fit *fit)
{
  const plan_opts *o = c->o;
  int pending[SIM_PLAN_MAX_GPUS], npending = 0;
  for (int g = 0; g < o->ngpus; g++) {
    if (fit[g].any)
      pending[npending++] = g;
    else
      plan_search_type(c, &types[g], fit[g].fits, (char (*)[512])fit[g].reasons); /* NOFIT rows only */
  }
  if (o->jobs <= 1 || npending <= 1) {
    for (int k = 0; k < npending; k++) {
      int g = pending[k];
      int rc = plan_search_type(c, &types[g], fit[g].fits, (char (*)[512])fit[g].reasons);
      if (rc) return rc;
    }
    return SIM_PLAN_OK;
  }
  FILE *files[SIM_PLAN_MAX_GPUS] = {0};
  int next = 0, running = 0, status = SIM_PLAN_OK;
  fflush(NULL);
  while (next < npending || running > 0) {
    while (status == SIM_PLAN_OK && !plan_stop && next < npending && running < o->jobs) {
      int g = pending[next++];
      files[g] = tmpfile();
      if (!files[g]) {
        fprintf(stderr, "clustersim plan: cannot create a temporary file: %s\n", strerror(errno));
        status = CMD_EXIT_FAIL;
        break;
      }
      pid_t pid = fork();
      if (pid < 0) {
        fprintf(stderr, "clustersim plan: cannot start a worker: %s\n", strerror(errno));
        status = CMD_EXIT_FAIL;
        break;
      }
      if (pid == 0) {
        for (int i = 0; i < SIM_PLAN_MAX_GPUS; i++) workers[i] = 0;
        int rc = plan_search_type(c, &types[g], fit[g].fits, (char (*)[512])fit[g].reasons);
        if (rc == SIM_PLAN_OK && !plan_type_write(files[g], &types[g])) rc = CMD_EXIT_FAIL;
        fflush(NULL);
        _exit(rc);
      }
      workers[g] = pid;
      running++;
    }
    if (running == 0) break;
    int ws;
    pid_t pid = waitpid(-1, &ws, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    int g = -1;
    for (int i = 0; i < o->ngpus; i++)
      if (workers[i] == pid) g = i;
    if (g < 0) continue;
    workers[g] = 0;
    running--;
    int rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : WIFSIGNALED(ws) && (WTERMSIG(ws) == SIGINT || WTERMSIG(ws) == SIGTERM)
                                                  ? SIM_PLAN_STOPPED
                                                  : CMD_EXIT_FAIL;
    if (rc == SIM_PLAN_OK) {
      plan_type_release(&types[g]);
      rewind(files[g]);
      if (!plan_type_read(files[g], &types[g])) {
        fprintf(stderr, "clustersim plan: cannot read the search of %s back\n", o->gpus[g]);
        rc = CMD_EXIT_FAIL;
      }
    } else if (rc != SIM_PLAN_STOPPED && rc != SIM_PLAN_USER_ERROR) {
      fprintf(stderr, "clustersim plan: the search of %s failed (%s %d)\n", o->gpus[g],
              WIFEXITED(ws) ? "status" : "signal", WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws));
    }
    if (rc != SIM_PLAN_OK && status == SIM_PLAN_OK) {
      status = rc;
      /* one failed: the others' results are no longer needed */
      for (int i = 0; i < SIM_PLAN_MAX_GPUS; i++)
        if (workers[i] > 0) kill(workers[i], SIGTERM);
    }
  }
  for (int g = 0; g < SIM_PLAN_MAX_GPUS; g++)
    if (files[g]) fclose(files[g]);
  if (status == SIM_PLAN_OK && plan_stop) status = SIM_PLAN_STOPPED;
  return status;
}

