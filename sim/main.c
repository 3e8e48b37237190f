/* sim/main.c: the clustersim executable; everything is in sim/cli.c. */
#include "sim/cli.h"

int main(int argc, char **argv) { return sim_cli_main(argc, argv); }
