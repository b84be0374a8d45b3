#!/bin/sh
# Deleting is off without -o allow_delete: rm -rf of the whole mount
# deletes nothing; with it, rm -r deletes exactly what was asked (points,
# then the empty collection), ENOTEMPTY and EBUSY where rpfs(1) says.
# Also: mv is EPERM, tags writes PATCH (and read back exactly), -o ro is EROFS, -o dry_run sends
# nothing and records the exact requests in .rpfs/ops.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"

state_sig() {
	sim GET /_armsim/state | python3 -c '
import json, sys
d = json.load(sys.stdin)
for c in sorted(d["collections"], key=lambda c: c["id"].lower()):
    print(c["id"], c.get("tags"), sorted((p["name"], p["provisioningState"]) for p in c["points"]))'
}

start_armsim --demo
W=rpc-vm-web-01-weekly
V=rpc-vm-web-01

# 1. Without allow_delete.
mount_rpfs -o ttl=60,busy_ttl=1
before=$(state_sig)
mut_clear
rm -rf "$MNT"/* 2>"$WORKDIR/rm.err" && fail "rm -rf of the mount succeeded"
expect_eq "armsim's state after rm -rf without allow_delete" "$before" "$(state_sig)"
mut_no_writes "rm -rf without allow_delete"
grep -q "allow_delete" "$RPFS_LOG" || fail "no log line names allow_delete"
expect_errno EPERM rmdir "$MNT/eastus/rg-prod/$V/rp-20261111-0200"
# mv: EPERM for a collection, a point, a file.
expect_errno EPERM mv "$MNT/eastus/rg-prod/$V" "$MNT/eastus/rg-prod/renamed"
expect_errno EPERM mv "$MNT/eastus/rg-prod/$V/rp-20261111-0200" "$MNT/eastus/rg-prod/$V/rp-x"
expect_errno EPERM mv "$MNT/eastus/rg-prod/$V/tags" "$MNT/eastus/rg-prod/$V/tags2"
# tags: a write replaces them (PATCH), visible at once.
mut_clear
printf 'env=test\nowner=me\n' >"$MNT/eastus/rg-prod/$V/tags" || fail "write tags"
mut_expect_writes "a tags write" \
	"PATCH $(mut_rpc rg-prod $V) {\"tags\":{\"env\":\"test\",\"owner\":\"me\"}}"
expect_eq "tags after the write" "env=test
owner=me" "$(cat "$MNT/eastus/rg-prod/$V/tags")"
mut_clear
printf 'owner=me\nenv=test\n' >"$MNT/eastus/rg-prod/$V/tags" || fail "rewrite tags"
mut_no_writes "writing the same tags"
# What a line cannot carry is written %HH: a '=' in a key; spaces are kept;
# the text read back and written again sends nothing.
mut_clear
printf 'a%%3Db=c\ncpu=80%%\npad= x \n' >"$MNT/eastus/rg-prod/$V/tags" || fail "write odd tags"
mut_expect_writes "a tags write with '=' in a key" \
	"PATCH $(mut_rpc rg-prod $V) {\"tags\":{\"a=b\":\"c\",\"cpu\":\"80%\",\"pad\":\" x \"}}"
cat "$MNT/eastus/rg-prod/$V/tags" >"$WORKDIR/tags" || fail "read tags"
expect_eq "odd tags read back" "$(printf 'a%%3Db=c\ncpu=80%%\npad= x \n')" "$(cat "$WORKDIR/tags")"
mut_clear
cat "$WORKDIR/tags" >"$MNT/eastus/rg-prod/$V/tags" || fail "write the tags read"
mut_no_writes "writing back the tags as read"
umount_rpfs

# 2. With allow_delete.
mount_rpfs -o ttl=60,busy_ttl=1,allow_delete
cd "$MNT" || fail "cd"
cp -r eastus/rg-prod/$W westus/rg-dev/ || fail "cp -r"
# The source of a copy still running from this mount: EBUSY.
mut_clear
expect_errno EBUSY rmdir eastus/rg-prod/$W/rp-weekly-20261030
expect_errno ENOTEMPTY rmdir westus/rg-dev/$W
mut_no_writes "EBUSY and ENOTEMPTY"
sim_advance 3600
# A DELETE that ARM refuses: the errno, and the point's error file says why.
sim POST /_armsim/faults '{"match":{"operationId":"RestorePoints_Delete"},"kind":"status","status":400,"code":"BadRequest","count":1}' >/dev/null ||
	fail "cannot inject a fault"
expect_errno EINVAL rmdir westus/rg-dev/$W/rp-weekly-20261030
grep -q "^DELETE: BadRequest: .*(HTTP 400" westus/rg-dev/$W/rp-weekly-20261030/error ||
	fail "the error file does not tell the failed DELETE: $(cat westus/rg-dev/$W/rp-weekly-20261030/error 2>&1)"
mut_clear
rm -r westus/rg-dev/$W || fail "rm -r of a copy collection"
want=
for p in rp-weekly-20261030 rp-weekly-20261106 rp-weekly-20261113 rp-weekly-20261120; do
	want="${want}DELETE $(mut_rp rg-dev $W $p) -
"
done
mut_expect_writes "rm -r of a collection" "${want}DELETE $(mut_rpc rg-dev $W) -"
test -e westus/rg-dev/$W && fail "the deleted collection is still listed"
ls westus/rg-dev 2>/dev/null | grep -q $W && fail "the deleted collection is still in the listing"
sim_advance 3600 # the DELETEs end
# Pending directories are removed locally.
mut_clear
mkdir westus/rg-dev/pend || fail "mkdir pending"
rmdir westus/rg-dev/pend || fail "rmdir pending"
test -e westus/rg-dev/pend && fail "the pending directory is still there"
mut_no_writes "rmdir of a pending directory"
cd /
umount_rpfs

# 3. ro: every mutation EROFS.
mount_rpfs -o ro
mut_clear
expect_errno EROFS mkdir "$MNT/westus/rg-dev/x"
expect_errno EROFS mkdir "$MNT/eastus/rg-prod/$V/rp-x"
expect_errno EROFS rmdir "$MNT/eastus/rg-prod/$V/rp-20261111-0200"
expect_errno EROFS sh -c "/bin/echo a=b >'$MNT/eastus/rg-prod/$V/tags'"
expect_errno EROFS touch "$MNT/eastus/rg-prod/$V/new"
mut_no_writes "ro"
umount_rpfs

# 4. dry_run: nothing sent, the exact requests in .rpfs/ops.
mount_rpfs -o dry_run,allow_delete,consistency=CrashConsistent
cd "$MNT" || fail "cd"
mut_clear
cp -r eastus/rg-prod/$W westus/rg-dev/ || fail "cp -r in dry_run"
mkdir eastus/rg-prod/$V/rp-dry || fail "mkdir of a point in dry_run"
rmdir eastus/rg-prod/$V/rp-20261111-0200 || fail "rmdir in dry_run"
mut_no_writes "dry_run"
expect_eq "state of a dry_run collection" dry_run "$(cat westus/rg-dev/$W/state)"
grep " dry_run PUT /subscriptions/$DEMO_SUB/resourceGroups/rg-dev/providers/Microsoft.Compute/restorePointCollections/$W {\"location\":\"westus\",\"tags\":{\"env\":\"prod\",\"owner\":\"platform-team\"},\"properties\":{\"source\":{\"id\":\"$(mut_rpc rg-prod $W)\"}}}\$" .rpfs/ops >/dev/null ||
	{ cat .rpfs/ops >&2; fail "the collection PUT is not in .rpfs/ops"; }
expect_eq "copy PUTs recorded" 4 "$(grep -c " dry_run PUT .*/$W/restorePoints/rp-weekly-.* {\"properties\":{\"sourceRestorePoint\":{\"id\":\"$M_RPC/rg-prod/.*/$W/restorePoints/rp-weekly-[0-9]*\"}}}\$" .rpfs/ops)"
grep -q " dry_run PUT .*/$V/restorePoints/rp-dry {\"properties\":{\"consistencyMode\":\"CrashConsistent\"}}\$" .rpfs/ops ||
	{ cat .rpfs/ops >&2; fail "the point PUT with consistency is not in .rpfs/ops"; }
grep -q " dry_run DELETE .*/$V/restorePoints/rp-20261111-0200 -\$" .rpfs/ops ||
	{ cat .rpfs/ops >&2; fail "the DELETE is not in .rpfs/ops"; }
cd /
pass
