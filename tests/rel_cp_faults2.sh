#!/bin/sh
# cp -r under faults, second half of the matrix (see rel_cp_faults1.sh):
# malformed JSON, 429 with Retry-After and added latency at 30% of
# requests, PUT routes included.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

rel_seed "$WORKDIR/seed.json" 3 20
start_armsim --seed "$WORKDIR/seed.json"
mount_rpfs -o retries=8,op_timeout=60
rel_cp_faults malformed throttle latency
pass
