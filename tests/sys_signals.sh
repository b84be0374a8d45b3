#!/bin/sh
# SIGHUP drops every cached answer (an out-of-band change shows at once,
# long before ttl); SIGUSR1 writes the counters to the log.
. "$TESTS_SRCDIR/lib.sh"
start_armsim --demo
mount_rpfs -o ttl=600
c=$MNT/eastus/rg-prod/rpc-vm-web-01
ls "$c" >/dev/null || fail "cannot list $c"
cid=$(cat "$c/id")
[ -d "$c/rp-oob" ] && fail "rp-oob exists before it was added"
sim POST /_armsim/mutate "{\"op\":\"add_point\",\"collection\":\"$cid\",\"name\":\"rp-oob\"}" >/dev/null ||
	fail "mutate add_point failed"
ls "$c" | grep -q '^rp-oob$' && fail "out-of-band point visible before SIGHUP (ttl=600)"
kill -HUP "$RPFS_PID"
wait_for 50 sh -c "ls '$c' | grep -q '^rp-oob\$'" || fail "SIGHUP did not make the new point visible"

: >"$WORKDIR/before"
kill -USR1 "$RPFS_PID"
wait_for 50 grep -q 'requests' "$RPFS_LOG" || fail "SIGUSR1 wrote no stats to the log"
kill -0 "$RPFS_PID" || fail "rpfs died on a signal"
pass
