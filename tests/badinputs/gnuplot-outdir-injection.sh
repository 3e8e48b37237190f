#!/bin/bash
# gnuplot runs a shell for data files named '<cmd' and outputs named '|cmd'.
# clustersim passes in='OUTDIR/timeseries.csv' and out='OUTDIR/plots/X.png.tmp.PID'
# to gnuplot unchanged, so an output directory whose name starts with '<' or '|'
# runs a shell command (same with `clustersim plot DIR`, sweep --plot, plan --plot).
# Usage: gnuplot-outdir-injection.sh /path/to/clustersim   (scratch directory; needs gnuplot)
CS=${1:-clustersim}
HERE=$(cd "$(dirname "$0")" && pwd)
rm -rf PWNED_by_in PWNED_by_out '<touch PWNED_by_in;echo' '|touch PWNED_by_out;cat>'
"$CS" run "$HERE/small.cfg" -q -o '<touch PWNED_by_in;echo' --plot 2>/dev/null; echo "rc=$?"
"$CS" run "$HERE/small.cfg" -q -o '|touch PWNED_by_out;cat>' --plot 2>/dev/null; echo "rc=$?"
ls -la PWNED_by_in PWNED_by_out
# observed: both files created (by /bin/sh started from gnuplot); clustersim exits 1
# expected now: rc=0 twice (the figures are drawn) and neither PWNED file exists: gnuplot
# writes the picture on its standard output and reads data by a name starting with './'
# (asserted by tests/unit/test_output.c, with plot, sweep --plot and plan --plot in test_plot.c)
