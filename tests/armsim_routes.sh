#!/bin/sh
# armsim: every read route of the demo, the common ARM headers, api-version
# checks, authentication failures and name matching without regard to case.
. "$TESTS_SRCDIR/lib.sh"
command -v python3 >/dev/null || skip "no python3"

start_armsim --demo
V=api-version=2025-04-01
S=/subscriptions/$DEMO_SUB

"$ARMSIM" --help | grep -q -- '--empty-pages' || fail "--help does not list --empty-pages"
for w in 'Seed format' /_armsim/faults /_armsim/mutate /_armsim/reset; do
	"$ARMSIM" --help | grep -q "$w" || fail "--help does not describe $w"
done
"$ARMSIM" --no-such-option >/dev/null 2>&1 && fail "a bad option was accepted"
# every option of --help is described in the man page
for o in $("$ARMSIM" --help | sed -n 's/^ *--\([a-z-]*\).*/\1/p'); do
	pat=$(printf '%s' "--$o" | sed 's/-/\\-/g')
	grep -qF -- "$pat" "$TESTS_SRCDIR/../doc/armsim.1" || fail "doc/armsim.1 does not describe --$o"
done

# subscriptions
arm_req GET "/subscriptions?api-version=2022-12-01"
expect_status "Subscriptions_List" 200
expect_eq "subscription id" "$DEMO_SUB" "$(printf '%s' "$ARM_BODY" | jpy 'd["value"][0]["subscriptionId"]')"
arm_req GET "$S?api-version=2020-01-01"
expect_status "Subscriptions_Get" 200
expect_eq "state" Enabled "$(printf '%s' "$ARM_BODY" | jpy 'd["state"]')"
arm_req GET "/subscriptions/00000000-0000-0000-0000-000000000000?api-version=2022-12-01"
expect_code "unknown subscription" 404 SubscriptionNotFound

# locations: 30+ physical regions
arm_req GET "$S/locations?api-version=2022-12-01"
expect_status "Subscriptions_ListLocations" 200
n=$(printf '%s' "$ARM_BODY" | jpy 'len([l for l in d["value"] if l["metadata"]["regionType"]=="Physical"])')
[ "$n" -ge 30 ] || fail "only $n physical locations"
printf '%s' "$ARM_BODY" | jpy '[l["name"] for l in d["value"]]' | grep -q '"westeurope"' || fail "no westeurope"

# resource groups: the API spells it rg-prod; any casing finds it
arm_req GET "$S/resourcegroups?api-version=2021-04-01"
expect_status "ResourceGroups_List" 200
rgs=$(printf '%s' "$ARM_BODY" | jpy '" ".join(sorted(g["name"] for g in d["value"]))')
expect_eq "resource groups" "rg-analytics rg-dev rg-network rg-prod" "$rgs"
arm_req GET "$S/resourceGroups/RG-PROD?api-version=2021-04-01"
expect_status "ResourceGroups_Get" 200
expect_eq "rg casing kept" rg-prod "$(printf '%s' "$ARM_BODY" | jpy 'd["name"]')"
arm_req GET "$S/resourceGroups/nope?api-version=2021-04-01"
expect_code "missing group" 404 ResourceGroupNotFound

# collections: list all, list by group, the RG-Prod casing in ids
arm_req GET "$S/providers/Microsoft.Compute/restorePointCollections?$V"
expect_status "ListAll" 200
expect_eq "collections" 13 "$(printf '%s' "$ARM_BODY" | jpy 'len(d["value"])')"
printf '%s' "$ARM_BODY" | jpy '[c["id"] for c in d["value"]]' | grep -q '/resourceGroups/RG-Prod/' ||
	fail "no collection id spells RG-Prod"
printf '%s' "$ARM_BODY" | jpy '[c["id"] for c in d["value"]]' | grep -q '/resourceGroups/rg-prod/' ||
	fail "no collection id spells rg-prod"
regions=$(printf '%s' "$ARM_BODY" | jpy 'len(set(c["location"] for c in d["value"]))')
[ "$regions" -ge 6 ] || fail "collections in only $regions regions"
arm_req GET "$(rpc_path rg-prod)?$V"
expect_status "List by group" 200
expect_eq "rg-prod collections (both casings)" 6 "$(printf '%s' "$ARM_BODY" | jpy 'len(d["value"])')"
arm_req GET "$(rpc_path no-such-rg)?$V"
expect_code "list in a missing group" 404 ResourceGroupNotFound

# get, with and without $expand, in another casing
arm_req GET "$(rpc_path RG-PROD RPC-VM-WEB-01)?$V"
expect_status "Get collection" 200
expect_eq "name casing kept" rpc-vm-web-01 "$(printf '%s' "$ARM_BODY" | jpy 'd["name"]')"
expect_eq "type" Microsoft.Compute/restorePointCollections "$(printf '%s' "$ARM_BODY" | jpy 'd["type"]')"
expect_eq "no points without expand" None "$(printf '%s' "$ARM_BODY" | jpy 'str(d["properties"].get("restorePoints"))')"
arm_req GET "$(rpc_path rg-prod rpc-vm-web-01)?$V&\$expand=restorePoints"
expect_eq "10 points" 10 "$(printf '%s' "$ARM_BODY" | jpy 'len(d["properties"]["restorePoints"])')"
pt=$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["restorePoints"][0]["properties"]["timeCreated"]')
case $pt in 20??-??-??T??:??:??.???????+00:00) ;; *) fail "timeCreated format: $pt" ;; esac
arm_req GET "$(rpc_path rg-prod nope)?$V"
expect_code "missing collection" 404 ResourceNotFound

# the total over the demo
arm_req GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?$V"
total=0
for id in $(printf '%s' "$ARM_BODY" | jpy '" ".join(c["id"] for c in d["value"])'); do
	arm_req GET "$id?$V&\$expand=restorePoints"
	total=$((total + $(printf '%s' "$ARM_BODY" | jpy 'len(d["properties"]["restorePoints"])')))
done
[ "$total" -ge 60 ] || fail "only $total restore points in the demo"

# restore point, instance view, CMK VM
arm_req GET "$(rpc_path rg-prod rpc-vm-sql-01)?$V&\$expand=restorePoints"
p=$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["restorePoints"][0]["name"]')
arm_req GET "$(rpc_path rg-prod rpc-vm-sql-01)/restorePoints/$p?$V&\$expand=instanceView"
expect_status "RestorePoints_Get" 200
expect_eq "CMK disk" EncryptionAtRestWithCustomerKey \
	"$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["sourceMetadata"]["storageProfile"]["osDisk"]["diskRestorePoint"]["encryption"]["type"]')"
expect_eq "instance view status" ReplicationState/succeeded \
	"$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["instanceView"]["statuses"][0]["code"]')"
ndisks=$(printf '%s' "$ARM_BODY" | jpy 'len(d["properties"]["instanceView"]["diskRestorePoints"])')
expect_eq "sql VM has os + 3 data disks" 4 "$ndisks"
arm_req GET "$(rpc_path rg-prod rpc-vm-sql-01)/restorePoints/$p?$V"
expect_eq "no instanceView without expand" None "$(printf '%s' "$ARM_BODY" | jpy 'str(d["properties"].get("instanceView"))')"
arm_req GET "$(rpc_path rg-prod rpc-vm-sql-01)/restorePoints/NOPE?$V"
expect_code "missing point" 404 ResourceNotFound

# common headers
arm_req GET "$(rpc_path rg-prod rpc-vm-web-01)?$V" "" -H 'x-ms-correlation-request-id: 11111111-2222-3333-4444-555555555555'
[ -n "$(arm_hdr x-ms-request-id)" ] || fail "no x-ms-request-id"
expect_eq "correlation id echoed" 11111111-2222-3333-4444-555555555555 "$(arm_hdr x-ms-correlation-request-id)"
[ -n "$(arm_hdr Date)" ] || fail "no Date"
case $(arm_hdr Content-Type) in application/json*) ;; *) fail "Content-Type: $(arm_hdr Content-Type)" ;; esac
expect_eq "read bucket header" 249 "$(arm_hdr x-ms-ratelimit-remaining-subscription-reads)"

# api-version
arm_req GET "$(rpc_path rg-prod rpc-vm-web-01)"
expect_code "no api-version" 400 MissingApiVersionParameter
arm_req GET "$(rpc_path rg-prod rpc-vm-web-01)?api-version=yesterday"
expect_code "bad api-version" 400 InvalidApiVersionParameter
arm_req GET "$(rpc_path rg-prod rpc-vm-web-01)?api-version=2019-07-01"
expect_code "too old for Compute" 400 InvalidApiVersionParameter
for v in 2021-03-01 2024-11-01 2025-11-01 2026-03-01; do
	arm_req GET "$(rpc_path rg-prod rpc-vm-web-01)?api-version=$v"
	expect_status "api-version $v" 200
done

# authentication
ARM_TOKEN= arm_req GET "$(rpc_path rg-prod rpc-vm-web-01)?$V"
expect_code "no token" 401 InvalidAuthenticationToken
case $(arm_hdr WWW-Authenticate) in Bearer*authorization_uri=*) ;; *) fail "WWW-Authenticate: $(arm_hdr WWW-Authenticate)" ;; esac
ARM_TOKEN=forged arm_req GET "$(rpc_path rg-prod rpc-vm-web-01)?$V"
expect_code "unknown token" 401 InvalidAuthenticationToken

# other methods and paths
arm_req POST "$(rpc_path rg-prod rpc-vm-web-01)?$V" '{}'
expect_status "POST on a collection" 405
arm_req GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Storage/storageAccounts?$V"
expect_status "unknown route" 404

# the log and stats saw it
sim GET /_armsim/stats | jpy 'd["by_op"]["RestorePointCollections_ListAll"]' | grep -qx 2 || fail "stats ListAll"
sim GET /_armsim/stats | jpy 'd["by_op_status"]["RestorePoints_Get 404"]' | grep -qx 1 || fail "stats RestorePoints_Get 404"
line=$(sim GET /_armsim/log | grep '"operationId":"Subscriptions_Get"' | head -1)
for k in seq time t_ms method path query status operationId requestId body auth; do
	printf '%s' "$line" | jpy "d['$k']" >/dev/null || fail "log line lacks $k: $line"
done
sim GET /_armsim/log | tail -1 | jpy 'd["auth"]' | grep -qx ok || true
sim GET /_armsim/log | grep -q '"auth":"missing"' || fail "log has no auth=missing"
pass
