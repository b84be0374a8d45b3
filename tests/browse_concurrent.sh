#!/bin/sh
# 16 concurrent `ls -lR` on a cold mount: every one sees the whole tree,
# and no GET is sent twice for the same URL (one request in flight per URL).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/fs_lib.sh"

start_armsim --demo
fs_state "$WORKDIR/state.json"
sim DELETE /_armsim/log >/dev/null
mount_rpfs

pids=
for i in $(seq 16); do
	timeout 60 ls -lR "$MNT" >"$WORKDIR/ls.$i" 2>"$WORKDIR/err.$i" &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || fail "a concurrent ls -lR failed: $(cat "$WORKDIR"/err.* | head -3)"
done
for i in $(seq 2 16); do
	cmp -s "$WORKDIR/ls.1" "$WORKDIR/ls.$i" || fail "listing $i differs from listing 1"
done
sim GET /_armsim/log >"$WORKDIR/log.jsonl" || fail "cannot read /_armsim/log"
fs_check dups "$WORKDIR/log.jsonl" || fail "duplicate GETs"
fs_expect_cold_economy "$(fs_ncoll "$WORKDIR/state.json")"
pass
