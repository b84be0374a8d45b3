#!/bin/sh
# rel_other_users.sh - with allow_other, other local users may read but not
# change anything (README "Other users"):
#  - as `nobody`, a walk, a cat and .rpfs/stats work;
#  - every change is EACCES with a line in .rpfs/errors: mkdir of a point
#    and of a collection, cp -r, a write to tags and to .rpfs/flush, rmdir
#    of a point (even with allow_delete), touch, setfattr, unlink; and
#    armsim sees no PUT, PATCH or DELETE;
#  - the mounting user (root) still changes tags;
#  - with default_permissions,uid=NOBODY the administrator lets nobody make
#    a point, but a delete stays the mounting user's.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

[ "$(id -u)" = 0 ] || skip "not root: the other-user check needs runuser"
command -v runuser >/dev/null || skip "no runuser"
id nobody >/dev/null 2>&1 || skip "no user nobody"

# as_nobody CMD: run a shell command as nobody, from /.
as_nobody() { (cd / && runuser -u nobody -- sh -c "$1"); }

# expect_denied CMD: CMD run as nobody fails with EACCES.
expect_denied() {
	local out
	out=$(as_nobody "$1" 2>&1) && fail "nobody could run: $1"
	case $out in
	*'Permission denied'*) ;;
	*) fail "$1 as nobody: expected EACCES, got: $out" ;;
	esac
}

# mutations: the number of PUT, PATCH, POST and DELETE requests armsim has seen.
mutations() {
	sim GET /_armsim/log | jq -s '[.[] | select(.method != "GET")] | length'
}

start_armsim --demo
mount_rpfs -o allow_other,allow_delete
chmod 755 "$WORKDIR" # let nobody reach the mount point
C=eastus/rg-prod/rpc-vm-web-01
P=$C/rp-20261120-0200

as_nobody "ls -lR $MNT/eastus/rg-prod >/dev/null" || fail "nobody cannot walk"
expect_eq "nobody reads a state" Succeeded "$(as_nobody "cat $MNT/$P/state")"
as_nobody "cat $MNT/.rpfs/stats >/dev/null" || fail "nobody cannot read .rpfs/stats"
before=$(mutations)

expect_denied "mkdir $MNT/$C/rp-nobody"
expect_denied "mkdir $MNT/westus/rg-prod/rpc-nobody"
expect_denied "cp -r $MNT/$C $MNT/westus/rg-dr/"
expect_denied "cp -r $MNT/$P $MNT/westus2/rg-prod/rpc-vm-web-01-westus2/rp-nobody"
expect_denied "echo owner=nobody >$MNT/$C/tags"
expect_denied "echo owner=nobody >>$MNT/$C/tags"
expect_denied "echo 1 >$MNT/.rpfs/flush"
expect_denied "rmdir $MNT/$P"
expect_denied "rm -rf $MNT/$P"
expect_denied "touch $MNT/$P/state"
expect_denied "chmod 777 $MNT/$P"
expect_denied "setfattr -n user.rpfs.source -v x $MNT/$C"
expect_denied "head -c 512 $MNT/$P/disks/vm-web-01-data-01.vhd"
expect_eq "nobody sent no request that changes anything" "$before" "$(mutations)"
ls "$MNT/$P" >/dev/null || fail "the point is gone"
[ -d "$MNT/$C/rp-nobody" ] && fail "nobody's pending point exists"

n=$(grep -c 'only the mounting user or root' "$MNT/.rpfs/errors")
[ "$n" -ge 13 ] || fail ".rpfs/errors has $n refusal lines, expected 13 or more: $(cat "$MNT/.rpfs/errors")"
grep -q "rmdir /$P .*errno=Permission denied.*may delete" "$MNT/.rpfs/errors" ||
	fail "no rmdir line in .rpfs/errors: $(cat "$MNT/.rpfs/errors")"
grep -q 'only the mounting user or root' "$RPFS_LOG" || fail "the refusals are not logged"

# The mounting user still changes the mount.
echo owner=root >"$MNT/$C/tags" || fail "root cannot write tags"
expect_eq "root's PATCH" 1 "$(sim GET /_armsim/log | jq -s '[.[] | select(.method == "PATCH")] | length')"
umount_rpfs

# The administrator grants more: default_permissions with uid= lets the
# kernel decide by the modes, and nobody, the owner shown, may take a
# restore point; deleting stays the mounting user's.
mount_rpfs -o allow_other,allow_delete,default_permissions,uid=$(id -u nobody)
as_nobody "mkdir $MNT/$C/rp-granted" || fail "nobody cannot mkdir with default_permissions,uid="
sim GET /_armsim/log | jq -e -s '[.[] | select(.method == "PUT" and (.path | endswith("/rp-granted")))] | length == 1' >/dev/null ||
	fail "no PUT for nobody's point"
expect_denied "rmdir $MNT/$C/rp-granted"
grep -q "rmdir /$C/rp-granted .*may delete" "$MNT/.rpfs/errors" || fail "no rmdir line for the granted mount"
umount_rpfs
# Without uid=, the kernel refuses by the modes (0755 directories of root).
mount_rpfs -o allow_other,default_permissions
expect_denied "mkdir $MNT/$C/rp-modes"
pass
