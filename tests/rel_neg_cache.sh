#!/bin/sh
# "Does not exist" answers do not pile up: after stats of 1,000 resource
# group names that do not exist, the cache's entries (.rpfs/stats
# cache_entries) fall back once neg_ttl has passed, and a flush empties
# the cache.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
mount_rpfs -o neg_ttl=10,read_rate=1000
ls "$MNT/eastus" >/dev/null || fail "listing eastus"
base=$(rel_stat cache_entries)
[ -n "$base" ] || fail ".rpfs/stats has no cache_entries"

# misses N: stat N resource group names that do not exist.
misses() {
	i=0
	while [ "$i" -lt "$1" ]; do
		i=$((i + 1))
		stat "$MNT/eastus/rg-nx-$2-$i" >/dev/null 2>&1 && fail "rg-nx-$2-$i exists"
	done
	return 0
}

misses 1000 a
n=$(rel_stat cache_entries)
# (those older than neg_ttl may be gone already on a slow machine)
[ "$n" -ge $((base + 100)) ] || fail "1,000 misses made $((n - base)) entries (the test counts nothing)"
# neg_ttl is 10 s; the sweep runs every 5 s.
wait_for 300 sh -c "[ \$(awk '\$1 == \"cache_entries\" { print \$2 }' '$MNT/.rpfs/stats') -le $base ]" ||
	fail "$(rel_stat cache_entries) entries 30 s after 1,000 misses ($base before them)"
log "1,000 misses: $n entries, back to $(rel_stat cache_entries) after neg_ttl"

misses 300 b
rel_flush
expect_eq "entries after a flush" 0 "$(rel_stat cache_entries)"
ls -lR "$MNT" >/dev/null || fail "walk after the flush"
pass
