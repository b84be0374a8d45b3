#!/bin/sh
# A listing that needs many collections (2,000 in one resource group, read
# at 20 requests a second: 100 s of fetching) returns within op_timeout,
# every collection named, while the fetching goes on in the background;
# and a caller killed while it waits is released at once (rpfs honours the
# kernel's interrupt), not left in D state until the answer.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

rel_seed "$WORKDIR/seed.json" 2000 1
start_armsim --seed "$WORKDIR/seed.json"
mount_rpfs -o op_timeout=15,ttl=600
ls "$MNT/eastus" >/dev/null || fail "listing eastus"

# A listing returns within op_timeout (15 s; 45 s of slack for a loaded machine).
timeout 60 ls -l "$MNT/eastus/rg-src" >"$WORKDIR/ls" 2>"$WORKDIR/ls.err" ||
	fail "ls -l of 2,000 collections did not return within op_timeout (status $?): $(head -3 "$WORKDIR/ls.err")"
n=$(grep -c ' rpc-src-' "$WORKDIR/ls")
expect_eq "collections listed" 2000 "$n"
g1=$(rel_stat requests.RestorePointCollections_Get)
sleep 2
g2=$(rel_stat requests.RestorePointCollections_Get)
[ "$g2" -gt "$g1" ] || fail "the collections are not fetched in the background ($g1, then $g2 GETs)"
log "ls -l of 2,000 collections returned with $g1 of them fetched; fetching went on ($g2 2 s later)"

# A killed listing is released at once.
rel_flush
ls -l "$MNT/eastus/rg-src" >/dev/null 2>&1 &
victim=$!
sleep 2
kill -0 "$victim" 2>/dev/null || fail "the cold listing ended within 2 s: nothing to interrupt"
kill -KILL "$victim"
wait_for 30 sh -c "! kill -0 $victim" ||
	fail "ls killed while it waited is still there 3 s later (state $(awk '{print $3}' /proc/$victim/stat 2>/dev/null))"
wait "$victim" 2>/dev/null
ls "$MNT/eastus/rg-src" >/dev/null || fail "listing after the killed one"
pass
