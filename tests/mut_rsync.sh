#!/bin/sh
# rsync -r --inplace copies a collection to another region like cp -r: one
# collection PUT and one copy PUT per point, exit 0; running it again sends
# nothing.  (Without --inplace rsync renames temporary files, which rpfs
# refuses: README, "Known limits".)  --exclude='*.vhd': rsync trusts a
# file's size, and a disk's bytes are not part of a copy (README).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"
command -v rsync >/dev/null || skip "rsync not installed"
start_armsim --demo
mount_rpfs
cd "$MNT" || fail "cannot enter the mount"
src=eastus/rg-prod/rpc-vm-sql-01
npoints=$(ls -d "$src"/rp-* | wc -l)
[ "$npoints" -gt 0 ] || fail "no points in $src"
mut_clear
out=$(rsync -r --inplace --exclude='*.vhd' "$src" westus/rg-dev/ 2>&1) || fail "rsync -r --inplace failed: $out"
puts=$(mut_writes | grep -c '^PUT ')
expect_eq "PUTs of rsync -r --inplace (collection + points)" "$((npoints + 1))" "$puts"
mut_writes | grep -v '^PUT ' && fail "rsync sent something other than PUTs"
expect_eq "copied collection state" Succeeded "$(cat westus/rg-dev/rpc-vm-sql-01/state)"
expect_eq "points copied" "$npoints" "$(ls -d westus/rg-dev/rpc-vm-sql-01/rp-* | wc -l)"
mut_clear
out=$(rsync -r --inplace --exclude='*.vhd' "$src" westus/rg-dev/ 2>&1) || fail "second rsync failed: $out"
expect_eq "writes of a second rsync" "" "$(mut_writes)"
cd /
pass
