#!/bin/sh
# What scripts and shells look at beside the files:
#  - `ls -a` shows `.` and `..`, and `..` has the parent's inode number;
#  - `getfattr -d` lists user.rpfs.* of a collection and a point (id,
#    state, source, consistency, created), each equal to its view file;
#    a pending directory shows state "pending"; an unknown user.* name is
#    "No such attribute", another namespace "Operation not supported";
#  - `ls -l` asks the mount for security.selinux once, not once a file.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/fs_lib.sh"
command -v getfattr >/dev/null || skip "getfattr not installed (attr)"

start_armsim --demo
mount_rpfs
C=$MNT/eastus/rg-prod/rpc-vm-web-01
P=$C/rp-20261120-0200
Q=$MNT/westus2/rg-prod/rpc-vm-web-01-westus2/rp-20261118-0200

for d in "$MNT" "$MNT/eastus" "$C" "$P" "$P/disks" "$MNT/.rpfs"; do
	names=$(ls -a "$d" | head -2 | tr '\n' ' ')
	expect_eq "first entries of ls -a $d" ". .. " "$names"
	want=$(stat -c %i "$d/..")
	got=$(ls -ai "$d" | awk '$2 == ".." { print $1 }')
	expect_eq "inode of .. in $d" "$want" "$got"
done

# attr DIR NAME: the value getfattr prints for user.rpfs.NAME.
attr() { getfattr --only-values -n "user.rpfs.$2" "$1"; }
for f in id state source; do
	expect_eq "collection $f" "$(cat "$C/$f")" "$(attr "$C" "$f")"
done
for f in id state consistency created; do
	expect_eq "point $f" "$(cat "$P/$f")" "$(attr "$P" "$f")"
done
expect_eq "copy's source" "$(cat "$Q/source")" "$(attr "$Q" source)"
dump=$(getfattr -d "$P" 2>/dev/null | grep -c '^user\.rpfs\.')
expect_eq "attributes of a point that is no copy" 4 "$dump"
dump=$(getfattr -d "$Q" 2>/dev/null | grep -c '^user\.rpfs\.')
expect_eq "attributes of a copy" 5 "$dump"
out=$(getfattr -n user.rpfs.nothing "$P" 2>&1) && fail "user.rpfs.nothing exists"
case $out in *'No such attribute'*) ;; *) fail "unknown attribute: $out" ;; esac
out=$(getfattr -n trusted.x "$P" 2>&1) && fail "trusted.x exists"
case $out in *'Operation not supported'*) ;; *) fail "other namespace: $out" ;; esac
getfattr -d "$P/id" 2>&1 | grep -q user. && fail "a view file has attributes"

mkdir "$MNT/westus/rg-prod/rpc-pending" || fail "mkdir pending"
expect_eq "pending state" pending "$(attr "$MNT/westus/rg-prod/rpc-pending" state)"
rmdir "$MNT/westus/rg-prod/rpc-pending" || fail "rmdir pending"

n=$(strace -f -e trace=lgetxattr,getxattr ls -lR "$MNT/eastus" 2>&1 >/dev/null | grep -c security.selinux)
[ "$n" -le 2 ] || fail "ls -lR asked for security.selinux $n times"
pass
