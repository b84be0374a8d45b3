#!/bin/sh
# Browse armsim's demo subscription: every level equals armsim's model,
# view files hold its values with exact sizes, a cold `ls -lR` costs
# 2 + pages + collections requests and a warm one none; .rpfs/, stable
# inodes, case-insensitive names, mtimes, statfs and refused mutations.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/fs_lib.sh"

start_armsim --demo
fs_state "$WORKDIR/state.json"
sim DELETE /_armsim/log >/dev/null
mount_rpfs

timeout 60 ls -lR "$MNT" >"$WORKDIR/ls1" || fail "cold ls -lR failed"
fs_expect_cold_economy "$(fs_ncoll "$WORKDIR/state.json")"
before=$(fs_total)
ls -lR "$MNT" >"$WORKDIR/ls2" || fail "warm ls -lR failed"
expect_eq "requests of a warm ls -lR" "$before" "$(fs_total)"
cmp -s "$WORKDIR/ls1" "$WORKDIR/ls2" || fail "warm listing differs from the cold one"

fs_check tree "$WORKDIR/state.json" "$MNT" || fail "the mount differs from armsim's model"
find "$MNT" -type f ! -name '*.vhd' -exec cat {} + >/dev/null || fail "find -exec cat failed"

# The resource group spelled two ways in westus2 is one directory.
expect_eq "westus2 groups" "rg-prod" "$(ls "$MNT/westus2" | tr 'A-Z' 'a-z' | tr '\n' ' ' | sed 's/ $//')"
# Case-insensitive lookup, stable inode numbers.
C=$MNT/eastus/rg-prod/rpc-vm-web-01
i1=$(stat -c %i "$C/rp-20261115-0200")
i2=$(stat -c %i "$MNT/EASTUS/RG-PROD/RPC-VM-WEB-01/RP-20261115-0200")
expect_eq "inode whatever the casing" "$i1" "$i2"
expect_eq "inode of a file, twice" "$(stat -c %i "$C/id")" "$(stat -c %i "$C/id")"
# mtimes: point = timeCreated, collection = newest point.
created=$(cat "$C/rp-20261115-0200/created")
expect_eq "point mtime" "$(date -d "$created" +%s)" "$(fs_mtime "$C/rp-20261115-0200")"
newest=$(cat "$C"/rp-*/created | sort | tail -1)
expect_eq "collection mtime" "$(date -d "$newest" +%s)" "$(fs_mtime "$C")"
# Text files end with a newline; origin of a copy resolves.
[ "$(tail -c1 "$C/id" | od -An -c | tr -d ' ')" = '\n' ] || fail "id does not end with a newline"
expect_eq "origin" "../../../eastus/rg-prod/rpc-vm-web-01" \
	"$(readlink "$MNT/westus2/rg-prod/rpc-vm-web-01-westus2/origin")"
# A resource group with no collection in a region: not listed, but found.
ls "$MNT/westus" | grep -qi rg-network && fail "rg-network listed in westus"
test -d "$MNT/westus/rg-network" || fail "lookup of rg-network in westus failed"
test -e "$MNT/westus/no-such-group" && fail "a missing resource group exists"
# .rpfs
for f in stats auth config errors ops copies; do
	test -f "$MNT/.rpfs/$f" || fail ".rpfs/$f missing"
	cat "$MNT/.rpfs/$f" >/dev/null || fail "cannot read .rpfs/$f"
done
grep -q '^ttl=' "$MNT/.rpfs/config" || fail ".rpfs/config has no ttl"
grep -q '^requests ' "$MNT/.rpfs/stats" || fail ".rpfs/stats has no request count"
grep -qi 'token_file' "$MNT/.rpfs/auth" || fail ".rpfs/auth does not name the source"
grep -q 'rpfs-test-token' "$MNT/.rpfs/auth" "$MNT/.rpfs/config" && fail "a token in .rpfs"
# df answers at once; what rpfs cannot do is refused (mutations that it
# does are the mut_*.sh tests').
timeout 2 df "$MNT" >/dev/null || fail "df failed"
expect_errno EPERM mkdir "$C/rp-20261115-0200/extra"
expect_errno EPERM rmdir "$C/rp-20261115-0200"
expect_errno EPERM mv "$C" "$MNT/eastus/rg-prod/renamed"
expect_errno EPERM sh -c "echo x > '$C/notes'"

umount_rpfs
mount_rpfs -o ro
expect_errno EROFS mkdir "$MNT/eastus/rg-prod/rpc-vm-web-01/rp-new"
ls "$MNT/eastus/rg-prod" >/dev/null || fail "ls on a read-only mount"
pass
