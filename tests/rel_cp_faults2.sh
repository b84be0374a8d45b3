#!/bin/sh
# cp -r under faults, second half of the matrix (see rel_cp_faults1.sh):
# malformed JSON, 429 with Retry-After and added latency at 30% of
# requests, PUT routes included (no request inside a Retry-After window);
# then with retries=0, where cp -r fails under 503s, reruns of cp -r finish
# the copy, still with one PUT creating each resource.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

rel_seed "$WORKDIR/seed.json" 4 20
start_armsim --seed "$WORKDIR/seed.json"
mount_rpfs -o retries=8,op_timeout=60
rel_cp_faults malformed throttle latency
umount_rpfs
# No retries left: cp fails, and reruns finish the copy without a second PUT.
mount_rpfs -o retries=0,op_timeout=60
rel_cp_rerun s503 3
pass
