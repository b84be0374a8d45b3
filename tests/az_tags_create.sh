#!/bin/sh
# Tags at creation, under an Azure Policy that denies collections without
# an "owner" tag (armsim --policy-require-tag owner): cp -r of a collection
# succeeds because its PUT carries the source's tags; a pending directory
# takes a write to its tags before its source is named and sends them with
# the PUT; a PUT the policy denies is EACCES with the policy's message in
# .rpfs/errors.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"

start_armsim --demo --policy-require-tag owner
mount_rpfs -o ttl=60
cd "$MNT" || fail "cd"
W=rpc-vm-web-01-weekly

# put_tags NAME: the tags of the collection PUT of NAME in armsim's log.
put_tags() {
	sim GET /_armsim/log | jq -c --arg n "$1" 'select(.method == "PUT" and (.path | endswith("/restorePointCollections/" + $n))) | .body.tags' | tail -1
}

cp -r eastus/rg-prod/$W westus/rg-dev/ || fail "cp -r under a policy that requires an owner tag"
expect_eq "tags of the copy's PUT" '{"env":"prod","owner":"platform-team"}' "$(put_tags $W | jq -cS .)"
expect_eq "tags of the copy" "env=prod
owner=platform-team" "$(sort westus/rg-dev/$W/tags)"

# A pending directory: tags first, then the source.
mkdir westus/rg-dev/az-pending || fail "mkdir of a pending collection"
expect_eq "state of the pending directory" pending "$(cat westus/rg-dev/az-pending/state)"
printf 'costCenter=42\n' >westus/rg-dev/az-pending/tags || fail "a tags write to a pending directory"
expect_eq "nothing sent for the tags write" "" "$(put_tags az-pending)"
expect_errno EACCES sh -c "printf '%s\n' '$(mut_rpc rg-prod rpc-vm-sql-01)' | tee westus/rg-dev/az-pending/source"
expect_eq "tags of the denied PUT" '{"costCenter":"42"}' "$(put_tags az-pending | jq -cS .)"
grep 'az-pending' .rpfs/errors | grep 'RequestDisallowedByPolicy' | grep -q 'disallowed by policy' ||
	fail "the policy's message is not in .rpfs/errors: $(tail -2 .rpfs/errors)"
printf 'costCenter=42\nowner=dr-team\n' >westus/rg-dev/az-pending/tags || fail "a second tags write"
printf '%s\n' "$(mut_rpc rg-prod rpc-vm-sql-01)" >westus/rg-dev/az-pending/source ||
	fail "naming the source with an owner tag"
expect_eq "tags of the PUT" '{"costCenter":"42","owner":"dr-team"}' "$(put_tags az-pending | jq -cS .)"
expect_eq "state once created" Succeeded "$(cat westus/rg-dev/az-pending/state)"
pass
