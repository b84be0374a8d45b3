#!/bin/sh
# cache_max bounds the cache: against 80 collections of 20 points (about
# 4.5 MiB of cached values uncapped), a mount with cache_max=1 (MiB) walks the whole
# tree with `ls -lR` while .rpfs/stats' cache_bytes stays within the cap
# plus a slack, collections are evicted (cache_evictions > 0), and a
# second walk, which fetches the evicted collections again, shows the same
# tree.
#
# The cap holds the 10 collections of a resource group (a listing of the
# group fetches them all, then reads them), not all 80.  The slack
# (256 KiB): what the cap never evicts (the ListAll answer, 80 collections
# of about 1 KiB, the resource groups and their list) plus the collection
# just stored, which is never its own victim (20 points, about 56 KiB):
# about 140 KiB, doubled for the estimate's error.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

NC=80 NP=20 CAP_KIB=1024 SLACK_KIB=256
python3 - "$WORKDIR/seed.json" "$NC" "$NP" <<'PY' || fail "cannot write the seed"
import json, sys
SUB = "8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20"
out, nc, npts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
vms, cols = [], []
for i in range(nc):
    region = ["eastus", "westus2"][i % 2]
    rg = "rg-cap-%d" % (i % 8)
    vm = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/vm-%03d" % (SUB, rg, i)
    vms.append({"id": vm, "location": region, "osType": "Linux",
                "disks": [{"name": "vm-%03d-os" % i}, {"name": "vm-%03d-data" % i, "lun": 0}]})
    points = [{"name": "rp-%03d" % p, "timeCreated": "2026-01-%02dT%02d:00:00Z" % (1 + i % 28, p % 24)}
              for p in range(npts)]
    cols.append({"name": "rpc-%03d" % i, "resourceGroup": rg, "location": region,
                 "source": {"id": vm}, "points": points})
json.dump({"subscription": SUB, "vms": vms, "collections": cols}, open(out, "w"))
PY
start_armsim --seed "$WORKDIR/seed.json"
mount_rpfs -o cache_max=1,read_rate=1000,op_timeout=120
[ -n "$(rel_stat cache_bytes)" ] || fail ".rpfs/stats has no cache_bytes"

# walk OUT: `ls -lR` of the mount into OUT (progress and error files, whose
# sizes move, left out) while the largest cache_bytes seen goes to OUT.max.
walk() {
	: >"$1.bytes"
	(
		while [ ! -e "$1.done" ]; do
			rel_stat cache_bytes >>"$1.bytes"
			sleep 0.2
		done
	) &
	sampler=$!
	timeout 600 ls -lR "$MNT" >"$1.ls" 2>"$1.err"
	rc=$?
	rel_stat cache_bytes >>"$1.bytes"
	touch "$1.done"
	wait "$sampler"
	[ "$rc" = 0 ] || fail "ls -lR failed ($rc): $(head -3 "$1.err")"
	sed -E '/ (progress|error)$/d' "$1.ls" >"$1"
	sort -n "$1.bytes" | tail -1 >"$1.max"
}

walk "$WORKDIR/walk1"
npts=$(grep -c ' rp-[0-9]*$' "$WORKDIR/walk1")
expect_eq "points walked" $((NC * NP)) "$npts"
max=$(cat "$WORKDIR/walk1.max")
ev=$(rel_stat cache_evictions)
log "first walk: $npts points, cache_bytes at most $max, $ev evictions"
[ "$ev" -gt 0 ] || fail "no eviction with cache_max=1 (cache_bytes at most $max)"
[ "$max" -le $(((CAP_KIB + SLACK_KIB) * 1024)) ] ||
	fail "cache_bytes reached $max, over the cap of $CAP_KIB KiB plus $SLACK_KIB KiB"

clear_log
walk "$WORKDIR/walk2"
gets=$(simlog 'select(.operationId == "RestorePointCollections_Get")' | wc -l)
max=$(cat "$WORKDIR/walk2.max")
log "second walk: cache_bytes at most $max, $gets collections fetched again, $(rel_stat cache_evictions) evictions in all"
[ "$max" -le $(((CAP_KIB + SLACK_KIB) * 1024)) ] ||
	fail "cache_bytes reached $max in the second walk"
[ "$gets" -gt 0 ] || fail "the second walk fetched no evicted collection again"
diff "$WORKDIR/walk1" "$WORKDIR/walk2" >"$WORKDIR/walk.diff" ||
	fail "the second walk shows another tree: $(head -5 "$WORKDIR/walk.diff")"
pass
