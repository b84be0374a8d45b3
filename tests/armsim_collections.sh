#!/bin/sh
# armsim: collection PUT (from a VM, cross-region copy), update rules,
# PATCH of tags, invalid names, and DELETE as a long-running operation
# followed through Azure-AsyncOperation and through Location.
. "$TESTS_SRCDIR/lib.sh"
command -v python3 >/dev/null || skip "no python3"

start_armsim --demo --delete-seconds 30
V=api-version=2025-04-01
VM=/subscriptions/$DEMO_SUB/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-web-01
SRC=$(rpc_path rg-prod rpc-vm-web-01)

# create from a VM: 201, then the same PUT again: 200
body="{\"location\":\"East US\",\"tags\":{\"a\":\"1\"},\"properties\":{\"source\":{\"id\":\"$VM\"}}}"
arm_req PUT "$(rpc_path rg-prod rpc-new)?$V" "$body"
expect_status "create" 201
expect_eq "location normalised" eastus "$(printf '%s' "$ARM_BODY" | jpy 'd["location"]')"
expect_eq "source location" eastus "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["source"]["location"]')"
expect_eq "provisioningState" Succeeded "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"
guid=$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["restorePointCollectionId"]')
arm_req PUT "$(rpc_path RG-PROD RPC-NEW)?$V" "{\"location\":\"eastus\",\"tags\":{\"b\":\"2\"},\"properties\":{\"source\":{\"id\":\"$VM\"}}}"
expect_status "update" 200
expect_eq "casing of the first PUT kept" rpc-new "$(printf '%s' "$ARM_BODY" | jpy 'd["name"]')"
expect_eq "tags replaced" '{"b": "2"}' "$(printf '%s' "$ARM_BODY" | jpy 'd["tags"]')"
expect_eq "same collection" "$guid" "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["restorePointCollectionId"]')"
# only tags may change
arm_req PUT "$(rpc_path rg-prod rpc-new)?$V" "{\"location\":\"westus2\",\"properties\":{\"source\":{\"id\":\"$VM\"}}}"
expect_code "location change" 409 PropertyChangeNotAllowed
arm_req PUT "$(rpc_path rg-prod rpc-new)?$V" "{\"location\":\"eastus\",\"properties\":{\"source\":{\"id\":\"${VM%01}02\"}}}"
expect_code "source change" 409 PropertyChangeNotAllowed

# PATCH replaces the tag map
arm_req PATCH "$(rpc_path rg-prod rpc-new)?$V" '{"tags":{"c":"3","d":"4"}}'
expect_status "PATCH" 200
expect_eq "PATCH tags" '{"c": "3", "d": "4"}' "$(printf '%s' "$ARM_BODY" | jpy 'd["tags"]')"
arm_req PATCH "$(rpc_path rg-prod rpc-new)?$V" "{\"properties\":{\"source\":{\"id\":\"$SRC\"}}}"
expect_code "PATCH of the source" 409 PropertyChangeNotAllowed
arm_req PATCH "$(rpc_path rg-prod missing)?$V" '{"tags":{}}'
expect_code "PATCH of a missing collection" 404 ResourceNotFound

# bad requests
arm_req PUT "$(rpc_path rg-prod 'bad%3Aname')?$V" "$body"
expect_code "name with a colon" 400 InvalidResourceName
long=$(printf '%0261d' 0)
arm_req PUT "$(rpc_path rg-prod "$long")?$V" "$body"
expect_code "261-char name" 400 InvalidResourceName
arm_req PUT "$(rpc_path rg-prod nolocation)?$V" "{\"properties\":{\"source\":{\"id\":\"$VM\"}}}"
expect_code "no location" 400 LocationRequired
arm_req PUT "$(rpc_path rg-prod badjson)?$V" '{"location":'
expect_code "bad JSON" 400 InvalidRequestContent
arm_req PUT "$(rpc_path rg-nope c1)?$V" "$body"
expect_code "missing group" 404 ResourceGroupNotFound
arm_req PUT "$(rpc_path rg-prod c1)?$V" '{"location":"eastus","properties":{"source":{"id":"/subscriptions/'$DEMO_SUB'/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/ghost"}}}'
expect_code "missing VM" 404 ResourceNotFound
arm_req PUT "$(rpc_path rg-prod c1)?$V" "{\"location\":\"westus2\",\"properties\":{\"source\":{\"id\":\"$VM\"}}}"
expect_code "VM in another region" 400 InvalidParameter

# cross-region copy collection
arm_req PUT "$(rpc_path rg-dev web-copy)?$V" "{\"location\":\"norwayeast\",\"properties\":{\"source\":{\"id\":\"$SRC\"}}}"
expect_status "copy collection" 201
expect_eq "copy's source" "$SRC" "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["source"]["id"]')"
expect_eq "copy's source location" eastus "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["source"]["location"]')"
arm_req PUT "$(rpc_path rg-dev same-region)?$V" "{\"location\":\"eastus\",\"properties\":{\"source\":{\"id\":\"$SRC\"}}}"
expect_code "source in the same region" 400 InvalidParameter
arm_req PUT "$(rpc_path rg-dev copy-of-copy)?$V" "{\"location\":\"uksouth\",\"properties\":{\"source\":{\"id\":\"$(rpc_path rg-dev web-copy)\"}}}"
expect_code "copy of a copy collection" 400 OperationNotAllowed
arm_req PUT "$(rpc_path rg-dev to-nowhere)?$V" "{\"location\":\"uksouth\",\"properties\":{\"source\":{\"id\":\"$(rpc_path rg-dev ghost)\"}}}"
expect_code "missing source collection" 404 ResourceNotFound

# DELETE through Azure-AsyncOperation
arm_req DELETE "$(rpc_path rg-prod rpc-new)?$V"
expect_status "delete" 202
async=$(arm_hdr Azure-AsyncOperation)
loc=$(arm_hdr Location)
case $async in "$ARMSIM_URL/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/locations/eastus/operations/"*) ;;
*) fail "Azure-AsyncOperation: $async" ;; esac
[ -n "$(arm_hdr Retry-After)" ] || fail "no Retry-After"
arm_req GET "$(rpc_path rg-prod rpc-new)?$V"
expect_eq "Deleting while running" Deleting "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"
arm_req GET "$async"
expect_status "async status" 200
expect_eq "InProgress" InProgress "$(printf '%s' "$ARM_BODY" | jpy 'd["status"]')"
arm_req GET "$loc"
expect_status "Location while running" 202
[ -n "$(arm_hdr Location)" ] || fail "202 from Location without a Location"
sim_advance 31
arm_req GET "$async"
expect_eq "Succeeded" Succeeded "$(printf '%s' "$ARM_BODY" | jpy 'd["status"]')"
arm_req GET "$loc"
expect_status "Location when done" 204
arm_req GET "$(rpc_path rg-prod rpc-new)?$V"
expect_code "gone" 404 ResourceNotFound
arm_req DELETE "$(rpc_path rg-prod rpc-new)?$V"
expect_status "delete of a missing collection" 204

# DELETE through Location, and the points go with the collection
arm_req DELETE "$(rpc_path rg-dev rpc-vm-build-01)?$V"
expect_status "delete with points" 202
loc=$(arm_hdr Location)
n=0
while :; do
	arm_req GET "$loc"
	[ "$ARM_STATUS" = 202 ] || break
	sim_advance 10
	n=$((n + 1))
	[ $n -lt 10 ] || fail "Location poll does not end"
done
expect_status "final Location answer" 204
arm_req GET "$(rpc_path rg-dev rpc-vm-build-01)/restorePoints/rp-20261120-0200?$V"
expect_code "points deleted with the collection" 404 ResourceNotFound
sim GET /_armsim/state | jpy '[c["name"] for c in d["collections"]]' | grep -q rpc-vm-build-01 && fail "state still has it"
arm_req GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/locations/eastus/operations/00000000-0000-0000-0000-000000000000?$V"
expect_status "unknown operation" 404
pass
