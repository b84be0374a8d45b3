#!/bin/sh
# Crash safety of cp -r: rpfs is killed (SIGKILL) in the middle of a cp -r
# of a 50-point collection (PUTs slowed by armsim so the kill lands
# mid-way, possibly with a PUT in flight), the mount is detached and made
# again, and the same cp -r is rerun: it exits 0, and every point ends
# created by exactly one PUT, none lost (a rerun sends no second
# PUT for a point that exists).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

rel_seed "$WORKDIR/seed.json" 1 50
start_armsim --seed "$WORKDIR/seed.json"
mount_rpfs -o ttl=60
S=$MNT/eastus/rg-src/rpc-src-0
ls "$S" >/dev/null || fail "source not listed"
ls "$MNT/westus2/rg-dst" >/dev/null || fail "target not listed"
clear_log
fault '{"match":{"method":"PUT"},"kind":"latency","latency_ms":200}'
cp -r "$S" "$MNT/westus2/rg-dst/" 2>"$WORKDIR/cp1.err" &
CP=$!
# created() : the PUTs armsim has answered 201 so far
created() { simlog 'select(.method == "PUT" and .status == 201)' | wc -l; }
wait_for 300 sh -c "[ \$(curl -sS '$ARMSIM_URL/_armsim/log' | grep -c '\"status\":201') -ge 20 ]" ||
	fail "the copy did not progress: $(created) PUTs"
kill -9 "$RPFS_PID"
before=$(created)
fusermount3 -uz "$MNT" || fail "fusermount3 -uz"
RPFS_PID=
if wait "$CP"; then fail "cp -r succeeded although rpfs was killed under it"; fi
log "killed rpfs after $before created resources: cp said $(head -1 "$WORKDIR/cp1.err")"
clear_faults
sleep 0.5 # a PUT that was in flight is answered by now
at_kill=$(created)
mount_rpfs -o ttl=60
cp -r "$S" "$MNT/westus2/rg-dst/" 2>"$WORKDIR/cp2.err" ||
	fail "the rerun of cp -r failed: $(head -3 "$WORKDIR/cp2.err")"
rel_cp_ok rpc-src-0
[ "$REL_PUTS" = 51 ] || fail "$REL_PUTS resources created, 51 expected"
n409=$(simlog 'select(.method == "PUT" and .status == 409)' | wc -l)
log "FIGURE crash during cp -r: $at_kill of 51 created before the kill, $((51 - at_kill)) by the rerun, 0 lost, 0 created twice, $n409 PUTs met 409 (none surfaced)"
pass
