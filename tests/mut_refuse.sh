#!/bin/sh
# What cannot work is refused at the first step, with one clear error, a
# line in .rpfs/errors and nothing sent; what exists only in this mount is
# removed like any directory:
#  - rm -rf of a pending tree (collection, point, disks/) works without
#    allow_delete;
#  - cp -r of a collection into another group of its own region: mkdir is
#    EINVAL, no pending tree is left behind;
#  - cp -r of a collection whose every point already has a copy in the
#    target region: mkdir is EEXIST before the collection PUT.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=60,busy_ttl=1
cd "$MNT" || fail "cd"
W=rpc-vm-web-01-weekly

# 1. A pending tree goes with rm -rf, nothing sent.
mut_clear
mkdir westus/rg-prod/rpc-pending || fail "mkdir pending collection"
mkdir westus/rg-prod/rpc-pending/rp-1 westus/rg-prod/rpc-pending/rp-2 || fail "mkdir pending points"
ls westus/rg-prod/rpc-pending/rp-1 | grep -qx disks || fail "a pending point has no disks/"
rmdir westus/rg-prod/rpc-pending/rp-2/disks 2>/dev/null
rm -rf westus/rg-prod/rpc-pending || fail "rm -rf of a pending tree"
[ -e westus/rg-prod/rpc-pending ] && fail "the pending tree is still there"
mut_no_writes "rm -rf of a pending tree"

# 2. Within one region: refused at the collection's mkdir.
mut_clear
out=$(cp -r eastus/rg-prod/$W eastus/rg-dev/ 2>&1) && fail "cp -r within a region succeeded"
expect_eq "errors printed by cp" 1 "$(printf '%s\n' "$out" | wc -l)"
case $out in *'Invalid argument'*) ;; *) fail "cp -r within a region: $out" ;; esac
[ -e eastus/rg-dev/$W ] && fail "a pending tree was left behind"
mut_no_writes "cp -r within a region"
grep -q "mkdir eastus/rg-dev/$W .*a copy goes to another region" .rpfs/errors ||
	fail "no .rpfs/errors line for the same region: $(cat .rpfs/errors)"

# 3. Every point copied to westus already: refused before the PUT.
cp -r eastus/rg-prod/$W westus/rg-dev/ || fail "the first copy failed"
mut_clear
out=$(cp -r eastus/rg-prod/$W westus/rg-analytics/ 2>&1) && fail "a copy of nothing succeeded"
expect_eq "errors printed by cp" 1 "$(printf '%s\n' "$out" | wc -l)"
case $out in *'File exists'*) ;; *) fail "cp -r of copied points: $out" ;; esac
mut_no_writes "cp -r of a collection whose points are all copied"
[ -e westus/rg-analytics/$W ] && fail "an empty collection appeared"
grep -q "mkdir westus/rg-analytics/$W .*already has a copy in this region" .rpfs/errors ||
	fail "no .rpfs/errors line for the copied points: $(cat .rpfs/errors)"
# Copying it to a third region still works.
cp -r eastus/rg-prod/$W centralus/rg-analytics/ || fail "a copy to another region failed"
pass
