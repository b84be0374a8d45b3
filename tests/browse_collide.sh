#!/bin/sh
# Names that collide (README, after the first session):
#  - a collection and a point that ARM returns twice (on one page, or on
#    overlapping pages) are listed once;
#  - points named like the collection's view files (tags, state, id,
#    source, origin, collection.json: valid ARM names) leave the files
#    readable and are shown as NAME:point, which ls, cat, mkdir -p and
#    rmdir reach.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
C=$(rpc_path rg-prod rpc-vm-web-01)
for n in tags state id; do
	sim POST /_armsim/mutate "{\"op\":\"add_point\",\"collection\":\"$C\",\"name\":\"$n\"}" >/dev/null ||
		fail "add point $n"
done
mount_rpfs -o allow_delete
D=$MNT/eastus/rg-prod/rpc-vm-web-01
grep -qx "env=prod" "$D/tags" || fail "tags is not the file: $(cat "$D/tags")"
cat "$D/state" | grep -qx Succeeded || fail "state is not the collection's state: $(cat "$D/state")"
expect_eq "id is still the file" "/subscriptions/$DEMO_SUB/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/rpc-vm-web-01" "$(cat "$D/id")"
for n in tags state id; do
	[ "$(ls "$D" | grep -cx "$n")" = 1 ] || fail "$n listed $(ls "$D" | grep -cx "$n") times"
	[ -d "$D/$n:point" ] || fail "$n:point is not a directory: $(ls "$D")"
	expect_eq "id of point $n" "$C/restorePoints/$n" "$(cat "$D/$n:point/id")"
done
ls -l "$D/tags:point/disks" >/dev/null || fail "disks of tags:point"
rmdir "$D/tags:point" || fail "rmdir tags:point"
sim GET /_armsim/log | jq -e -s '[.[] | select(.method == "DELETE" and (.path | endswith("/restorePoints/tags")))] | length == 1' >/dev/null ||
	fail "no DELETE of point tags"
umount_rpfs

# ARM answers with repeats: the ListAll page lists one collection twice,
# and a collection lists one point twice.
list=$(arm GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?api-version=2025-04-01")
dup=$(printf '%s' "$list" | jq -c '.value += [.value[0]] | del(.nextLink)')
n0=$(printf '%s' "$list" | jq -r '.value[0].name')
[ "$(printf '%s' "$list" | jq -r '.nextLink // empty')" = "" ] || fail "the demo's ListAll has more than one page"
sim POST /_armsim/faults "$(jq -cn --arg b "$dup" '{match:{operationId:"RestorePointCollections_ListAll"},kind:"body",status:200,body:$b}')" >/dev/null ||
	fail "ListAll rule"
coll=$(arm GET "$C?api-version=2025-04-01&\$expand=restorePoints")
dupc=$(printf '%s' "$coll" | jq -c '.properties.restorePoints += [.properties.restorePoints[0]]')
p0=$(printf '%s' "$coll" | jq -r '.properties.restorePoints[0].name')
sim POST /_armsim/faults "$(jq -cn --arg b "$dupc" --arg p "$C" '{match:{operationId:"RestorePointCollections_Get",path_prefix:$p},kind:"body",status:200,body:$b}')" >/dev/null ||
	fail "collection rule"
mount_rpfs
loc=$(printf '%s' "$list" | jq -r '.value[0].location')
rg=$(printf '%s' "$list" | jq -r '.value[0].id' | cut -d/ -f5)
expect_eq "collection $n0 listed once" 1 "$(ls "$MNT/$loc/$rg" | grep -cx "$n0")"
expect_eq "point $p0 listed once" 1 "$(ls "$D" | grep -cx "$p0")"
expect_eq "ls -R of the collection" 0 "$(ls -R "$D" | sort | uniq -d | grep -c "^$p0\$")"
pass
