#!/bin/sh
# ARM unreachable (every request reset): the cached tree stays readable,
# even after ttl; an uncached path fails within op_timeout with EIO
# (rpfs(1), ERRORS); df answers at once; the daemon recovers when the fault is cleared.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/fs_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=2,neg_ttl=1,op_timeout=8,retries=2
ls -lR "$MNT" >"$WORKDIR/ls1" || fail "ls -lR"
C=$MNT/eastus/rg-prod/rpc-vm-web-01
id=$(cat "$C/id")

sim POST /_armsim/faults '{"kind":"reset"}' >/dev/null || fail "cannot add the fault"
sleep 3   # everything cached is now older than ttl
ls -lR "$MNT" >"$WORKDIR/ls2" || fail "the cached tree is not readable"
cmp -s "$WORKDIR/ls1" "$WORKDIR/ls2" || fail "the stale tree differs"
expect_eq "a cached file" "$id" "$(cat "$C/id")"
start=$(date +%s)
timeout 2 df "$MNT" >/dev/null || fail "df did not answer at once"
expect_errno EIO ls "$MNT/westus/rg-network"
expect_errno EIO cat "$MNT/westus2/rg-prod/rpc-vm-web-01-westus2/rp-20261118-0200/progress"
took=$(( $(date +%s) - start ))
[ "$took" -le 20 ] || fail "two uncached paths took ${took}s (op_timeout 8)"
grep -q 'ResourceGroups_Get' "$MNT/.rpfs/errors" || fail ".rpfs/errors does not show the failure"
mountpoint -q "$MNT" || fail "the daemon died"

sim DELETE /_armsim/faults >/dev/null || fail "cannot clear the faults"
test -d "$MNT/westus/rg-network" || fail "no recovery after the fault was cleared"
cat "$MNT/westus2/rg-prod/rpc-vm-web-01-westus2/rp-20261118-0200/progress" >/dev/null ||
	fail "progress does not recover"
pass
