/* driver/config/datadir.h: where the program's data folders are (the
 * shipped catalogs, the gnuplot scripts): an environment override, else
 * the installed folder beside the running executable, else the source
 * tree the program was built from. Part of the driver. */
#ifndef DRIVER_CONFIG_DATADIR_H
#define DRIVER_CONFIG_DATADIR_H

#include <stddef.h>

/* The data folder `sub` ("catalog", "plots"), into buf (n bytes), returned:
 * $env when set and not empty; else EXE/REL/sub when that is a folder,
 * where EXE is the folder of the running executable (/proc/self/exe) and
 * REL the path from the install's bin to its share/clustersim (fixed at
 * build time, "../share/clustersim"), made absolute and canonical; else
 * `built_in` (the source tree's folder, fixed at build time). */
const char *cfg_data_dir(const char *env, const char *sub, const char *built_in, char *buf, size_t n);

#endif
