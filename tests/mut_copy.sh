#!/bin/sh
# Cross-region disaster recovery with cp -r (README): a collection
# to another resource group, to a new name in the same group (pending
# path), a single point, a renamed point, with cp -a; every PUT exactly
# once, nothing else written; progress ends at "total 100 Succeeded";
# reruns send nothing; the group that already holds the name is EEXIST.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=60,busy_ttl=1
cd "$MNT" || fail "cd"
W=rpc-vm-web-01-weekly
SRC=$(mut_rpc rg-prod $W)
PTS="rp-weekly-20261030 rp-weekly-20261106 rp-weekly-20261113 rp-weekly-20261120"

# 1. A collection to another resource group of another region.
ls eastus/rg-prod/$W >/dev/null || fail "source not listed"
mut_clear
cp -r eastus/rg-prod/$W westus/rg-dev/ || fail "cp -r of a collection failed"
want=$(mut_put_rpc_line rg-dev $W westus "$SRC")
for p in $PTS; do
	want="$want
$(mut_put_copy_line rg-dev $W $p "$(mut_rp rg-prod $W $p)")"
done
mut_expect_writes "cp -r eastus/rg-prod/$W westus/rg-dev/" "$want"
expect_eq "the copy is listed" "$PTS" "$(ls westus/rg-dev/$W | grep '^rp-' | tr '\n' ' ' | sed 's/ $//')"
expect_eq "its source" "$SRC" "$(cat westus/rg-dev/$W/source)"
expect_eq "its origin" "../../../eastus/rg-prod/$W" "$(readlink westus/rg-dev/$W/origin)"
expect_eq "a point's source" "$(mut_rp rg-prod $W rp-weekly-20261030)" \
	"$(cat westus/rg-dev/$W/rp-weekly-20261030/source)"
# .rpfs/ops: five PUTs, each with its result and request id.
n=$(grep -Ec " PUT $M_RPC/rg-dev/providers/Microsoft.Compute/restorePointCollections/$W(/restorePoints/[^ ]+)? 201 ok [0-9a-f-]{36}\$" .rpfs/ops)
expect_eq "PUTs in .rpfs/ops" 5 "$n"
expect_eq "copies running" 4 "$(wc -l <.rpfs/copies)"
# progress rises with armsim's clock and ends at total 100 Succeeded.
t1=$(tail -1 westus/rg-dev/$W/rp-weekly-20261030/progress | awk '{print $2}')
[ "$t1" -lt 100 ] || fail "the copy is already done: $t1"
sim_advance 3600
for p in $PTS; do
	expect_eq "progress of $p" "total 100 Succeeded" "$(tail -1 westus/rg-dev/$W/$p/progress)"
done
expect_eq "copies running once done" 0 "$(wc -l <.rpfs/copies)"

# 2. The same cp -r again: nothing is sent.
mut_clear
cp -r eastus/rg-prod/$W westus/rg-dev/ || fail "second cp -r failed"
mut_no_writes "a second identical cp -r"

# 3. The group already holds the name (in eastus): EEXIST, nothing sent.
mut_clear
expect_errno EEXIST cp -r eastus/rg-prod/$W westus/rg-prod/
mut_no_writes "cp -r into a group that holds the name"

# 4. A new name in the same resource group: the pending path, with cp -a.
S=rpc-vm-sql-01
mut_clear
cp -a eastus/rg-prod/$S westus/rg-prod/$S-dr || fail "cp -a to a new name failed"
want=$(mut_put_rpc_line rg-prod $S-dr westus "$(mut_rpc rg-prod $S)")
for p in $(ls eastus/rg-prod/$S | grep '^rp-'); do
	want="$want
$(mut_put_copy_line rg-prod $S-dr $p "$(mut_rp rg-prod $S $p)")"
done
mut_expect_writes "cp -a eastus/rg-prod/$S westus/rg-prod/$S-dr" "$want"
expect_eq "state of the renamed copy" Succeeded "$(cat westus/rg-prod/$S-dr/state)"

# 5. mkdir of a collection whose name exists once elsewhere: PUT at once;
#    then a single point, and a renamed point (pending, resolved by cp).
V=rpc-vm-web-01
mut_clear
mkdir westus/rg-dev/$V || fail "mkdir of a collection"
cp -r eastus/rg-prod/$V/rp-20261111-0200 westus/rg-dev/$V/ || fail "cp -r of one point"
cp -r eastus/rg-prod/$V/rp-20261112-0200 westus/rg-dev/$V/rp12-dr || fail "cp -r to a renamed point"
mut_expect_writes "mkdir, cp -r of a point, cp -r to a renamed point" \
"$(mut_put_rpc_line rg-dev $V westus "$(mut_rpc rg-prod $V)")
$(mut_put_copy_line rg-dev $V rp-20261111-0200 "$(mut_rp rg-prod $V rp-20261111-0200)")
$(mut_put_copy_line rg-dev $V rp12-dr "$(mut_rp rg-prod $V rp-20261112-0200)")"
expect_eq "the renamed point's source" "$(mut_rp rg-prod $V rp-20261112-0200)" \
	"$(cat westus/rg-dev/$V/rp12-dr/source)"
mut_clear
cp -r eastus/rg-prod/$V/rp-20261112-0200 westus/rg-dev/$V/rp12-dr 2>/dev/null
mut_no_writes "cp -r of a point onto its existing copy"

# 6. A pending collection named by a write to source, by a path, and by setfattr.
mut_clear
mkdir westus/rg-dev/etl-dr || fail "mkdir pending"
expect_eq "state of a pending collection" pending "$(cat westus/rg-dev/etl-dr/state)"
echo southeastasia/rg-analytics/rpc-vm-etl-01 >westus/rg-dev/etl-dr/source || fail "write a path to source"
mkdir westus/rg-dev/build-dr || fail "mkdir pending 2"
if command -v setfattr >/dev/null; then
	setfattr -n user.rpfs.source -v "$(mut_rpc rg-dev rpc-vm-build-01)" westus/rg-dev/build-dr ||
		fail "setfattr user.rpfs.source"
	want2="
$(mut_put_rpc_line rg-dev build-dr westus "$(mut_rpc rg-dev rpc-vm-build-01)")"
else
	want2=
fi
mut_expect_writes "pending collections named by source and setfattr" \
"$(mut_put_rpc_line rg-dev etl-dr westus "$(mut_rpc rg-analytics rpc-vm-etl-01)")$want2"
expect_eq "state once named" Succeeded "$(cat westus/rg-dev/etl-dr/state)"

# 7. A pending collection whose first content is a point: the point's
#    collection becomes its source (collection PUT, then the copy).
mut_clear
mkdir westus/rg-dev/dev-dr || fail "mkdir pending 3"
cp -r westeurope/rg-dev/rpc-vm-dev-01/rp-20261118-0206 westus/rg-dev/dev-dr/ || fail "cp -r of a point into a pending collection"
mut_expect_writes "a point copied into a pending collection" \
"$(mut_put_rpc_line rg-dev dev-dr westus "$(mut_rpc rg-dev rpc-vm-dev-01)")
$(mut_put_copy_line rg-dev dev-dr rp-20261118-0206 "$(mut_rp rg-dev rpc-vm-dev-01 rp-20261118-0206)")"
cd /
pass
