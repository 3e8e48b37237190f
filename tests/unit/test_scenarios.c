/* tests/unit/test_scenarios.c: every scenario the project ships (every
 * .cfg in scenarios/) is one `clustersim check` accepts with exit status
 * 0, so that a change of a key, a catalog name or a default cannot leave a
 * shipped example broken. Warnings are allowed: the Azure trace's
 * over-long rows are meant to show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clitest.h"
#include "testutil.h"

static void test_check_all(void)
{
  size_t n = 0;
  char **names = list_dir(CS_SOURCE_DIR "/scenarios", ".cfg", &n);
  CHECK(n >= 20, "only %zu scenarios found in %s", n, CS_SOURCE_DIR "/scenarios");
  for (size_t i = 0; names && names[i]; i++) {
    char *path = path_join(CS_SOURCE_DIR "/scenarios", names[i]);
    result r = RUN("check", path);
    CHECK(r.rc == 0, "%s: exit status %d; stderr:\n%s", names[i], r.rc, r.err);
    CHECK(strstr(r.out, ": ok"), "%s: no \"ok\" in\n%s", names[i], r.out);
    result_free(&r);
    free(path);
  }
  free_list(names);
}

int main(void)
{
  static const cs_test tests[] = {
    {"every shipped scenario passes check", test_check_all},
    {NULL, NULL},
  };
  return cs_run_suite("scenarios", tests);
}
