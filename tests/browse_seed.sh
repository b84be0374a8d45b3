#!/bin/sh
# 1,000 collections across ten ListAll pages, with a resource group that
# ARM spells two ways in the same region: the mount lists exactly armsim's
# model, a cold `ls -lR` costs 2 + pages + collections and a warm one none.
# Listing a region fetches its collections in the order a walk reaches
# them (resource group, then name), not in ListAll's order; listing one of
# its resource groups then puts that group's collections first.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/fs_lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

python3 "$TESTS_SRCDIR/gen_seed.py" 1000 "$WORKDIR/seed.json" || fail "cannot write the seed"
start_armsim --seed "$WORKDIR/seed.json" --page-size 100
fs_state "$WORKDIR/state.json"
expect_eq "collections in the seed" 1000 "$(fs_ncoll "$WORKDIR/state.json")"
sim DELETE /_armsim/log >/dev/null
mount_rpfs -o read_rate=10000,retries=2,op_timeout=10  # the default 20/s would make 1,000 GETs take 45 s

timeout 120 ls -lR "$MNT" >/dev/null || fail "cold ls -lR failed"
fs_expect_cold_economy 1000
before=$(fs_total)
timeout 60 ls -lR "$MNT" >/dev/null || fail "warm ls -lR failed"
expect_eq "requests of a warm ls -lR" "$before" "$(fs_total)"

# One directory for rg-bulk-0 / RG-Bulk-0 in each region.
for r in eastus westus2 northeurope japaneast; do
	n=$(ls "$MNT/$r" | grep -ci '^rg-bulk-0$')
	expect_eq "directories for rg-bulk-0 in $r" 1 "$n"
	test -d "$MNT/$r/RG-BULK-0" || fail "case-insensitive lookup of RG-BULK-0 in $r"
done
fs_check tree "$WORKDIR/state.json" "$MNT" || fail "the mount differs from armsim's model"

# Read-ahead of one region, one connection so that armsim sees the queue's order.
umount_rpfs
mount_rpfs -o read_rate=10000,max_conns=1
sim DELETE /_armsim/log >/dev/null
ls "$MNT/eastus" >/dev/null || fail "cannot list eastus"
gets() {
	sim GET /_armsim/log | jq -r 'select(.operationId == "RestorePointCollections_Get") | .path' |
		sed -n 's#.*/resourceGroups/\([^/]*\)/providers/.*/restorePointCollections/\([^/?]*\).*#\1 \2#p'
}
enough_gets() { [ "$(gets | wc -l)" -ge 100 ]; }
wait_for 200 enough_gets || fail "listing eastus fetched $(gets | wc -l) collections in 20 s, not 100"
gets | head -n 100 >"$WORKDIR/order"
expect_eq "read-ahead GETs looked at" 100 "$(wc -l <"$WORKDIR/order")"
awk '{ print tolower($1), $2 }' "$WORKDIR/order" | LC_ALL=C sort -c -k1,1 -k2,2 2>"$WORKDIR/sort.err" ||
	fail "eastus's collections were not fetched in walk order: $(cat "$WORKDIR/sort.err"); first: $(head -n 5 "$WORKDIR/order" | tr '\n' ' ')"

# While the region's read-ahead is slow (50 ms a GET, one connection),
# listing its last resource group fetches that group's collections first.
umount_rpfs
fault '{"kind":"latency","latency_ms":50,"match":{"operationId":"RestorePointCollections_Get"}}'
mount_rpfs -o read_rate=10000,max_conns=1
ls "$MNT/eastus" >/dev/null || fail "cannot list eastus"
sleep 0.3
sim DELETE /_armsim/log >/dev/null
ls "$MNT/eastus/rg-bulk-6" >"$WORKDIR/rg6" || fail "cannot list eastus/rg-bulk-6"
n6=$(grep -c '^rpc-' "$WORKDIR/rg6")
[ "$n6" -ge 20 ] || fail "eastus/rg-bulk-6 shows $n6 collections"
gets | head -n "$n6" >"$WORKDIR/order6"
other=$(grep -vc '^rg-bulk-6 ' "$WORKDIR/order6")
log "listing rg-bulk-6 ($n6 collections): $other GETs of other groups among its first $n6"
[ "$other" -le 2 ] || fail "listing eastus/rg-bulk-6 waited behind the region's read-ahead: $other of the first $n6 GETs were of other groups"
clear_faults
pass
