#!/bin/sh
# Resource group names: armsim --rg-case upper spells the group of every
# Compute id in upper case, as Compute often does; every group directory is
# still spelled as the resource groups API spells it (one
# ResourceGroups_List, so a cold ls -lR costs 2 + pages + collections),
# while the id files show ARM's ids as they are.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/fs_lib.sh"

start_armsim --demo --rg-case upper
fs_state "$WORKDIR/state.json"
arm GET "/subscriptions/$DEMO_SUB/resourcegroups?api-version=2021-04-01" | jq -r '.value[].name' | sort >"$WORKDIR/groups"
[ -s "$WORKDIR/groups" ] || fail "no resource groups from armsim"
sim DELETE /_armsim/log >/dev/null
mount_rpfs
timeout 60 ls -lR "$MNT" >/dev/null || fail "cold ls -lR failed"
fs_expect_cold_economy "$(fs_ncoll "$WORKDIR/state.json")"
expect_eq "ResourceGroups_List requests" 1 "$(sim GET /_armsim/stats | jq '.by_op.ResourceGroups_List // 0')"
n=0
for d in "$MNT"/*/*/; do
	g=$(basename "$d")
	case $(dirname "$d") in */.rpfs) continue ;; esac
	grep -qxF -- "$g" "$WORKDIR/groups" || fail "group directory $d is not spelled as the groups API spells it ($(tr '\n' ' ' <"$WORKDIR/groups"))"
	n=$((n + 1))
done
[ "$n" -gt 3 ] || fail "only $n group directories"
id=$(cat "$MNT"/eastus/rg-prod/rpc-vm-web-01/id) || fail "no eastus/rg-prod/rpc-vm-web-01"
case $id in */resourceGroups/RG-PROD/*) ;; *) fail "armsim did not spell the group in upper case: $id" ;; esac
# case-insensitive lookup still works
ls "$MNT/eastus/RG-PROD/rpc-vm-web-01" >/dev/null || fail "lookup with the upper-case spelling"
pass
