#!/bin/sh
# armsim: restore point create (Creating -> Succeeded) and delete as
# long-running operations, idempotent retries, cross-region copies with
# per-disk progress, and the documented limits (armsim(1)).
. "$TESTS_SRCDIR/lib.sh"
command -v python3 >/dev/null || skip "no python3"

start_armsim --demo --create-seconds 20 --copy-seconds 100 --delete-seconds 5
V=api-version=2025-04-01
A=$(rpc_path rg-prod rpc-vm-web-01)
AW2=$(rpc_path rg-prod rpc-vm-web-01-westus2)

# create from the VM
arm_req PUT "$A/restorePoints/rp-new?$V" '{"properties":{}}'
expect_status "create" 201
expect_eq "Creating" Creating "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"
expect_eq "Linux consistency" FileSystemConsistent "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["consistencyMode"]')"
async=$(arm_hdr Azure-AsyncOperation)
loc=$(arm_hdr Location)
[ -n "$async" ] && [ -n "$loc" ] && [ -n "$(arm_hdr Retry-After)" ] || fail "LRO headers missing"
arm_req GET "$A/restorePoints/rp-new?$V"
expect_eq "GET while creating" Creating "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"
arm_req PUT "$A/restorePoints/rp-new2?$V" '{"properties":{}}'
expect_code "second create on the same VM" 409 VMRestorePointClientError
arm_req PUT "$(rpc_path rg-prod rpc-vm-web-01-weekly)/restorePoints/rp-other?$V" '{}'
expect_code "same VM, other collection" 409 VMRestorePointClientError
arm_req GET "$async"
expect_eq "async InProgress" InProgress "$(printf '%s' "$ARM_BODY" | jpy 'd["status"]')"
arm_req GET "$loc"
expect_status "Location while creating" 202
arm_req PUT "$AW2/restorePoints/rp-19?$V" "{\"properties\":{\"sourceRestorePoint\":{\"id\":\"$A/restorePoints/rp-new\"}}}"
expect_code "copy of a point still Creating" 409 OperationNotAllowed
sim_advance 21
arm_req GET "$async"
expect_eq "async Succeeded" Succeeded "$(printf '%s' "$ARM_BODY" | jpy 'd["status"]')"
arm_req GET "$loc"
expect_status "Location final" 200
expect_eq "Location gives the point" rp-new "$(printf '%s' "$ARM_BODY" | jpy 'd["name"]')"
arm_req GET "$A/restorePoints/RP-NEW?$V"
expect_eq "Succeeded" Succeeded "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"

# a retry of the same PUT is answered with the point; another source is an update
arm_req PUT "$A/restorePoints/rp-new?$V" '{"properties":{}}'
expect_status "idempotent retry" 200
arm_req PUT "$A/restorePoints/rp-new?$V" "{\"properties\":{\"sourceRestorePoint\":{\"id\":\"$A/restorePoints/rp-20261111-0200\"}}}"
expect_code "update of a point" 409 OperationNotAllowed

# inputs
VMD=/subscriptions/$DEMO_SUB/resourceGroups/rg-prod/providers/Microsoft.Compute/disks/vm-web-01-data-02
arm_req PUT "$A/restorePoints/rp-crash?$V" "{\"properties\":{\"consistencyMode\":\"CrashConsistent\",\"excludeDisks\":[{\"id\":\"$VMD\"}]}}"
expect_status "crash-consistent with an excluded disk" 201
expect_eq "consistency" CrashConsistent "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["consistencyMode"]')"
expect_eq "excluded" "$VMD" "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["excludeDisks"][0]["id"]')"
expect_eq "one data disk left" 1 "$(printf '%s' "$ARM_BODY" | jpy 'len(d["properties"]["sourceMetadata"]["storageProfile"]["dataDisks"])')"
sim_advance 21
arm_req PUT "$A/restorePoints/rp-app?$V" '{"properties":{"consistencyMode":"ApplicationConsistent"}}'
expect_code "only CrashConsistent may be asked" 400 InvalidParameter
arm_req PUT "$A/restorePoints/rp-x?$V" '{"properties":{"excludeDisks":[{"id":"/no/such/disk"}]}}'
expect_code "unknown excluded disk" 400 InvalidParameter
arm_req PUT "$A/restorePoints/bad%3Fname?$V" '{}'
expect_code "bad point name" 400 InvalidResourceName
arm_req PUT "$AW2/restorePoints/rp-plain?$V" '{"properties":{}}'
expect_code "plain create in a copy collection" 400 InvalidParameter
arm_req PUT "$(rpc_path rg-prod nope)/restorePoints/rp?$V" '{}'
expect_code "missing collection" 404 ResourceNotFound

# cross-region copy: Succeeded when it starts, progress per disk over time
SRC19=$A/restorePoints/rp-20261119-0200
arm_req PUT "$AW2/restorePoints/rp-20261119-0200?$V" "{\"properties\":{\"sourceRestorePoint\":{\"id\":\"$SRC19\"}}}"
expect_status "copy" 201
expect_eq "copy Creating" Creating "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"
expect_eq "sourceRestorePoint echoed" "$SRC19" "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["sourceRestorePoint"]["id"]')"
copy_async=$(arm_hdr Azure-AsyncOperation)
sim_advance 21
arm_req GET "$copy_async"
expect_eq "copy operation done when the copy starts" Succeeded "$(printf '%s' "$ARM_BODY" | jpy 'd["status"]')"
sim_advance 30
arm_req GET "$AW2/restorePoints/rp-20261119-0200?$V&\$expand=instanceView"
expect_eq "copy Succeeded" Succeeded "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"
pcts=$(printf '%s' "$ARM_BODY" | jpy '" ".join(str(x["replicationStatus"]["completionPercent"]) for x in d["properties"]["instanceView"]["diskRestorePoints"])')
codes=$(printf '%s' "$ARM_BODY" | jpy '" ".join(x["replicationStatus"]["status"]["code"] for x in d["properties"]["instanceView"]["diskRestorePoints"])')
set -- $pcts
[ $# -eq 3 ] || fail "3 disks expected: $pcts"
[ "$3" -gt 0 ] && [ "$3" -lt 100 ] || fail "the last disk should be copying: $pcts"
case $codes in *ReplicationState/inProgress*) ;; *) fail "no inProgress code: $codes" ;; esac
expect_eq "overall status" ReplicationState/inProgress "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["instanceView"]["statuses"][0]["code"]')"
prev=$3
sim_advance 20
arm_req GET "$AW2/restorePoints/rp-20261119-0200?$V&\$expand=instanceView"
now=$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["instanceView"]["diskRestorePoints"][2]["replicationStatus"]["completionPercent"]')
[ "$now" -gt "$prev" ] || fail "progress did not rise ($prev -> $now)"
sim_advance 100
arm_req GET "$AW2/restorePoints/rp-20261119-0200?$V&\$expand=instanceView"
expect_eq "all disks done" "100 100 100" "$(printf '%s' "$ARM_BODY" | jpy '" ".join(str(x["replicationStatus"]["completionPercent"]) for x in d["properties"]["instanceView"]["diskRestorePoints"])')"
expect_eq "succeeded code" ReplicationState/succeeded "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["instanceView"]["statuses"][0]["code"]')"

# copy limits
arm_req PUT "$AW2/restorePoints/again?$V" "{\"properties\":{\"sourceRestorePoint\":{\"id\":\"$SRC19\"}}}"
expect_code "second copy to the same region" 409 OperationNotAllowed
arm_req PUT "$AW2/restorePoints/rp-20261115-0200?$V" "{\"properties\":{\"sourceRestorePoint\":{\"id\":\"$A/restorePoints/rp-20261115-0200\"}}}"
expect_code "copy out of order" 409 OperationNotAllowed
arm_req PUT "$(rpc_path rg-dev web-w2b)?$V" "{\"location\":\"westus2\",\"properties\":{\"source\":{\"id\":\"$A\"}}}"
expect_status "second copy collection in westus2" 201
arm_req PUT "$(rpc_path rg-dev web-w2b)/restorePoints/rp-20261119-0200?$V" "{\"properties\":{\"sourceRestorePoint\":{\"id\":\"$SRC19\"}}}"
expect_code "same point, same region, other collection" 409 OperationNotAllowed
arm_req PUT "$(rpc_path rg-dev web-w2b)/restorePoints/cc?$V" "{\"properties\":{\"sourceRestorePoint\":{\"id\":\"$AW2/restorePoints/rp-20261116-0200\"}}}"
expect_code "copy of a copy" 400 OperationNotAllowed
arm_req PUT "$(rpc_path rg-dev web-w2b)/restorePoints/x?$V" "{\"properties\":{\"sourceRestorePoint\":{\"id\":\"$(rpc_path rg-prod rpc-vm-sql-01)/restorePoints/rp-20261120-0202\"}}}"
expect_code "point of another collection" 400 InvalidParameter
arm_req PUT "$(rpc_path rg-dev web-w2b)/restorePoints/x?$V" "{\"properties\":{\"sourceRestorePoint\":{\"id\":\"$A/restorePoints/ghost\"}}}"
expect_code "missing source point" 404 ResourceNotFound

# CMK source -> platform-key copy
SQL=$(rpc_path rg-prod rpc-vm-sql-01)
last=$(arm_req GET "$SQL?$V&\$expand=restorePoints"; printf '%s' "$ARM_BODY" | jpy 'd["properties"]["restorePoints"][-1]["name"]')
arm_req PUT "$(rpc_path RG-Prod rpc-vm-sql-01-westus3)/restorePoints/$last?$V" "{\"properties\":{\"sourceRestorePoint\":{\"id\":\"$SQL/restorePoints/$last\"}}}"
expect_status "CMK copy" 201
expect_eq "PMK in the copy" EncryptionAtRestWithPlatformKey \
	"$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["sourceMetadata"]["storageProfile"]["osDisk"]["diskRestorePoint"]["encryption"]["type"]')"

# failed copies: the demo's, and one made to fail
arm_req GET "$(rpc_path rg-dev rpc-vm-dev-01-northeurope)?$V&\$expand=restorePoints"
fp=$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["restorePoints"][-1]["name"]')
arm_req GET "$(rpc_path rg-dev rpc-vm-dev-01-northeurope)/restorePoints/$fp?$V&\$expand=instanceView"
expect_eq "demo failed copy" ReplicationState/failed "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["instanceView"]["statuses"][0]["code"]')"
arm_req GET "$(rpc_path rg-dev rpc-vm-dev-01)?$V&\$expand=restorePoints"
expect_eq "demo failed point" Failed "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["restorePoints"][-1]["properties"]["provisioningState"]')"
sim POST /_armsim/mutate "{\"op\":\"fail_copy\",\"id\":\"$(rpc_path RG-Prod rpc-vm-sql-01-westus3)/restorePoints/$last\"}" >/dev/null
sim_advance 200
arm_req GET "$(rpc_path RG-Prod rpc-vm-sql-01-westus3)/restorePoints/$last?$V&\$expand=instanceView"
expect_eq "made to fail" ReplicationState/failed "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["instanceView"]["diskRestorePoints"][0]["replicationStatus"]["status"]["code"]')"

# a create that fails: the operation reports Failed with an error
APP=$(rpc_path RG-Prod rpc-vm-app-02)
arm_req PUT "$A/restorePoints/rp-new?$V" '{"properties":{"provisioningState":"Creating"}}'
expect_code "provisioningState in the body differs" 400 InvalidParameter
arm_req PUT "$A/restorePoints/rp-new?$V" '{"properties":{"provisioningState":"Succeeded"}}'
expect_status "provisioningState in the body matches" 200
arm_req PUT "$APP/restorePoints/rp-doomed?$V" '{"properties":{}}'
expect_status "create to fail" 201
async=$(arm_hdr Azure-AsyncOperation)
loc=$(arm_hdr Location)
sim POST /_armsim/mutate "{\"op\":\"fail_point\",\"id\":\"$APP/restorePoints/rp-doomed\"}" >/dev/null
arm_req GET "$async"
expect_eq "still running" InProgress "$(printf '%s' "$ARM_BODY" | jpy 'd["status"]')"
sim_advance 21
arm_req GET "$async"
expect_status "a failed operation still answers 200" 200
expect_eq "Failed" Failed "$(printf '%s' "$ARM_BODY" | jpy 'd["status"]')"
expect_eq "error code" VMRestorePointClientError "$(printf '%s' "$ARM_BODY" | jpy 'd["error"]["code"]')"
arm_req GET "$loc"
expect_status "Location of a failed create" 200
expect_eq "point Failed" Failed "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"

# delete: 202, Deleting, then gone; through both status URLs
arm_req DELETE "$A/restorePoints/rp-crash?$V"
expect_status "delete" 202
async=$(arm_hdr Azure-AsyncOperation)
loc=$(arm_hdr Location)
arm_req GET "$A/restorePoints/rp-crash?$V"
expect_eq "Deleting" Deleting "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"
arm_req GET "$async"
expect_eq "delete InProgress" InProgress "$(printf '%s' "$ARM_BODY" | jpy 'd["status"]')"
arm_req GET "$loc"
expect_status "delete Location running" 202
sim_advance 6
arm_req GET "$async"
expect_eq "delete Succeeded" Succeeded "$(printf '%s' "$ARM_BODY" | jpy 'd["status"]')"
arm_req GET "$loc"
expect_status "delete Location done" 204
arm_req GET "$A/restorePoints/rp-crash?$V"
expect_code "deleted" 404 ResourceNotFound
arm_req DELETE "$A/restorePoints/rp-crash?$V"
expect_status "delete of a missing point" 204

# 500 restore points per VM, counted over collections
python3 - "$WORKDIR/seed500.json" "$DEMO_SUB" <<'PY'
import json, sys
sub = sys.argv[2]
vm = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
cols = []
for c in range(2):
    cols.append({"name": f"c{c}", "resourceGroup": "rg", "location": "eastus", "source": {"id": vm},
                 "points": [{"name": f"p{i}"} for i in range(250 - c)]})
json.dump({"subscription": sub, "resourceGroups": [{"name": "rg", "location": "eastus"}],
           "vms": [{"id": vm, "location": "eastus"}], "collections": cols}, open(sys.argv[1], "w"))
PY
start_armsim --seed "$WORKDIR/seed500.json" --create-seconds 1
C0=/subscriptions/$DEMO_SUB/resourceGroups/rg/providers/Microsoft.Compute/restorePointCollections/c0
arm_req PUT "$C0/restorePoints/p-499?$V" '{}'
expect_status "the 500th point" 201
sim_advance 2
arm_req PUT "$C0/restorePoints/p-500?$V" '{}'
expect_code "the 501st point" 409 VMRestorePointClientError
pass
