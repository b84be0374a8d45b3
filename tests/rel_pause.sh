#!/bin/sh
# A 429 whose Retry-After is absurd (99999999 s) pauses requests to ARM
# for 300 s at most, and `.rpfs/flush` or SIGHUP ends the pause at once:
# one broken answer cannot disable the mount until it is remounted.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
mount_rpfs -o op_timeout=2,retries=2
ls "$MNT" >/dev/null || fail "listing the regions"

# throttle_once: the next ARM request is answered 429 with a huge
# Retry-After; the listing that meets it fails EAGAIN, and so does a mkdir.
throttle_once() {
	clear_log
	fault '{"kind":"throttle","retry_after":99999999,"count":1}'
	rel_flush
	timed_errno EAGAIN 2500 ls "$MNT/eastus"
	expect_errno EAGAIN mkdir "$MNT/westus2/rg-prod/paused-rpc"
	n=$(sim GET /_armsim/stats | jq .total)
	[ "$n" = 1 ] || fail "$n requests during the pause (1 expected: the throttled one)"
}

throttle_once
rel_flush
ls "$MNT/eastus" >/dev/null || fail ".rpfs/flush did not end the pause of a 429"
expect_eq "pause left after a flush" 0 "$(rel_stat throttle_pause_s)"

throttle_once
# 300 s plus up to 250 ms of jitter, rounded up
p=$(rel_stat throttle_pause_s)
[ -n "$p" ] && [ "$p" -ge 1 ] && [ "$p" -le 301 ] ||
	fail "a Retry-After of 99999999 s pauses for '$p' s (at most 300 expected)"
grep -q 'Retry-After 99999999 s, waiting 300 s at most' "$RPFS_LOG" ||
	fail "the capped Retry-After is not logged"
kill -HUP "$RPFS_PID"
wait_for 30 ls "$MNT/eastus" >/dev/null || fail "SIGHUP did not end the pause of a 429"
expect_eq "pause left after SIGHUP" 0 "$(rel_stat throttle_pause_s)"
ls -lR "$MNT" >/dev/null || fail "walk after the pause"
pass
