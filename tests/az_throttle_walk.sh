#!/bin/sh
# Pacing: armsim enforces ARM's read bucket, made small (40, refilled at
# ARM's 25/s), and the subscription has 80 collections.  A cold ls -lR,
# which needs more reads than the bucket holds, reads
# x-ms-ratelimit-remaining-subscription-reads and slows to the refill rate
# before the bucket is empty: no 429 at all.  The time against the
# bucket's floor ((requests - 40) / 25 s) is reported, not asserted.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

N=80
rel_seed "$WORKDIR/seed.json" "$N" 2
start_armsim --seed "$WORKDIR/seed.json" --throttle --throttle-buckets 40,200,200
mount_rpfs
t0=$(date +%s%N)
timeout 120 ls -lR "$MNT" >"$WORKDIR/walk" || fail "the cold walk failed"
t1=$(date +%s%N)
n=$(grep -c 'rpc-src-' "$WORKDIR/walk")
[ "$n" -ge "$N" ] || fail "the walk shows $n of $N collections"
nreq=$(sim GET /_armsim/stats | jq .total)
n429=$(simlog 'select(.status == 429)' | wc -l)
ms=$(( (t1 - t0) / 1000000 ))
floor=$(( (nreq - 40) * 1000 / 25 ))
log "FIGURE throttled walk: $nreq requests, bucket 40 at 25/s, $ms ms (floor $floor ms), $n429 answered 429"
[ "$n429" = 0 ] || fail "$n429 requests answered 429 during a paced walk"
[ "$nreq" -gt 45 ] || fail "only $nreq requests: the walk did not go past the bucket"
pass
