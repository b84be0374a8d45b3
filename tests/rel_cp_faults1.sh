#!/bin/sh
# cp -r under faults, first half of the matrix (the other half is
# rel_cp_faults2.sh, so make -j2 runs both at once): at 30% of requests,
# PUT routes included, 503, 500, connection reset and truncated bodies:
# cp -r of a 20-point collection to another region completes (rerun when
# rpfs's retries run out) and every point and the collection are created
# by exactly one PUT, the copy matching its source.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

rel_seed "$WORKDIR/seed.json" 4 20
start_armsim --seed "$WORKDIR/seed.json"
mount_rpfs -o retries=8,op_timeout=60
rel_cp_faults s503 s500 reset truncate
pass
