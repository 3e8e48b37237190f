/* driver/commands/main.c: the clustersim executable; everything is in driver/commands/cli.c. */
#include "driver/commands/cli.h"

int main(int argc, char **argv) { return cmd_main(argc, argv); }
