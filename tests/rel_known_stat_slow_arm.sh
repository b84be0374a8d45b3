#!/bin/sh
# KNOWN BUG (expected to fail; listed in XFAIL_TESTS in rel.am until fixed):
# with ARM slow to answer (every answer 6 s late, op_timeout=3) and the
# cached tree older than ttl, one `stat` of a known collection takes two
# full op_timeouts (6 s): the lookup of rg-prod refreshes the expired
# ListAll and waits op_timeout before serving the stale copy, then the
# lookup of the collection does the same for its GET.  SPEC §4 says no
# system call waits longer than op_timeout, and SPEC §2 that getattr of
# anything known never waits on the network.  The cause is in tree.c
# (tree_lookup/tree_getattr ask the cache with CACHE_FETCH for an expired
# entry); see the report of issue 7.  This test passes once a known
# path's stat answers within op_timeout (ideally at once, from the stale
# copy, with the refresh in the background).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=1,op_timeout=3,retries=2
ls -lR "$MNT" >/dev/null || fail "walk"
fault '{"kind":"latency","latency_ms":6000}'
sleep 2 # everything cached is older than ttl now
elapsed_ms stat "$MNT/eastus/rg-prod/rpc-vm-web-01"
[ "$REL_RC" = 0 ] || fail "stat of a known collection failed: $REL_OUT"
[ "$REL_MS" -le 3500 ] || fail "stat of a known collection took $REL_MS ms (op_timeout 3 s)"
elapsed_ms ls -l "$MNT/eastus/rg-prod/rpc-vm-web-01"
[ "$REL_RC" = 0 ] || fail "ls -l of a known collection failed: $REL_OUT"
[ "$REL_MS" -le 3500 ] || fail "ls -l of a known collection took $REL_MS ms (op_timeout 3 s)"
pass
