#!/bin/sh
# Why a point failed: the `error` file shows ARM's code and message, from
# the point's instance view (direct I/O, a request at each read) for a
# point that failed elsewhere (the demo's Failed point), and for a copy
# started from this mount and made to fail (armsim /_armsim/mutate
# fail_copy) once its progress has told the failure.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=60,busy_ttl=1
cd "$MNT" || fail "cd"
rpget() { sim GET /_armsim/stats | jq '.by_op.RestorePoints_Get // 0'; }

# A point whose create failed (elsewhere): state Failed.
FP=$(ls -d */rg-dev/rpc-vm-dev-01/rp-* | tail -1)
expect_eq "state of the demo's failed point" Failed "$(cat "$FP/state")"
n0=$(rpget)
e=$(cat "$FP/error") || fail "cannot read $FP/error"
case $e in "ProvisioningState/failed/VMRestorePointClientError: "*"snapshot"*) ;;
*) fail "error of a failed point lacks ARM's code and message: $e" ;; esac
cat "$FP/error" >/dev/null
expect_eq "requests for two reads of error" 2 $(( $(rpget) - n0 ))

# The demo's failed copy (elsewhere, state Succeeded): progress tells it.
FC=$(ls -d */rg-dev/rpc-vm-dev-01-northeurope/rp-* | tail -1)
tail -1 "$FC/progress" | grep -q Failed || fail "progress of the failed copy: $(cat "$FC/progress")"

# A copy started here, made to fail while it replicates.
W=rpc-vm-web-01-weekly
P=rp-weekly-20261030
cp -r eastus/rg-prod/$W westus/rg-dev/ || fail "cp -r"
[ ! -e westus/rg-dev/$W/$P/error ] || fail "an error file for a copy that has not failed"
sim POST /_armsim/mutate "{\"op\":\"fail_copy\",\"id\":\"$(mut_rp rg-dev $W $P)\"}" >/dev/null ||
	fail "fail_copy"
sim_advance 60
tail -1 westus/rg-dev/$W/$P/progress | grep -q Failed || fail "progress after fail_copy: $(cat westus/rg-dev/$W/$P/progress)"
e=$(cat westus/rg-dev/$W/$P/error) || fail "no error file for the copy made to fail"
case $e in "copy: ReplicationState/failed: Replication"*) ;; *) fail "error of the copy made to fail: $e" ;; esac
pass
