#!/bin/sh
# Throttling by kind: a 429 on a read with a Retry-After of 60 s (longer
# than op_timeout) pauses only reads.  A tags write still goes through at
# once (writes have their own bucket), and a walk of the cached tree, even
# stale (ttl 1 s), is served from the cache with no read sent to ARM until
# the window ends.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=1,op_timeout=5
ls -lR "$MNT" >"$WORKDIR/before" || fail "first walk"
coll=$(cd "$MNT" && ls -d eastus/*/* | head -1)
[ -n "$coll" ] || fail "no collection in eastus"
fault '{"match":{"method":"GET"},"kind":"throttle","retry_after":60,"count":1}'
sleep 1.5
# the read that meets the 429: served from the (stale) cache
cat "$MNT/$coll/id" >/dev/null || fail "a cached read failed after a 429 on reads"
n429=$(sim GET /_armsim/stats | jq '[.by_op_status | to_entries[] | select(.key | endswith(" 429")) | .value] | add // 0')
[ "$n429" = 1 ] || fail "the read was not throttled ($n429 answers 429)"
clear_log
elapsed_ms sh -c "printf 'owner=az-test\n' >'$MNT/$coll/tags'"
[ "$REL_RC" = 0 ] || fail "a tags write failed while reads were paused: $REL_OUT"
log "FIGURE tags write while reads are paused for 60 s: $REL_MS ms"
npatch=$(simlog 'select(.method == "PATCH" and .status == 200)' | wc -l)
[ "$npatch" = 1 ] || fail "the PATCH did not reach ARM ($npatch)"
timeout 20 ls -lR "$MNT" >"$WORKDIR/after" 2>"$WORKDIR/after.err" ||
	fail "a walk of the cached tree failed while reads were paused: $(head -3 "$WORKDIR/after.err")"
ngets=$(simlog 'select(.method == "GET")' | wc -l)
[ "$ngets" = 0 ] || fail "$ngets reads sent to ARM inside the Retry-After window"
# an uncached path fails with EAGAIN, at once
expect_errno EAGAIN cat "$MNT/eastus/no-such-rg-az/x"
st=$(rel_stat cache_stale_served)
[ "${st:-0}" -gt 0 ] || fail ".rpfs/stats counts no stale answer"
pass
