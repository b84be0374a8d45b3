#!/bin/sh
# armsim: --state survives a restart, --seed loads the state format and
# rejects malformed files naming the problem, the control API (state,
# mutate, log, stats, clock, reset).
. "$TESTS_SRCDIR/lib.sh"
command -v python3 >/dev/null || skip "no python3"

V=api-version=2025-04-01
VM=/subscriptions/$DEMO_SUB/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-web-01
STATE=$WORKDIR/state.json

# --state: every change is saved and reloaded at start
start_armsim --demo --state "$STATE" --create-seconds 1000 --retry-after 0 \
	--blob-port-file "$WORKDIR/blob.port"
[ -s "$STATE" ] || fail "no state file at start"
# a disk grant survives too: its SAS reads after the restart
P=$(rpc_path rg-prod rpc-vm-web-01)/restorePoints/rp-20261120-0200
arm_req GET "$P/diskRestorePoints?api-version=2025-01-02"
D=$(printf '%s' "$ARM_BODY" | jpy 'd["value"][1]["id"]')
arm_req POST "$D/beginGetAccess?api-version=2025-01-02" '{"access":"Read","durationInSeconds":3600}'
arm_req GET "$(arm_hdr Location)"
SAS=$(printf '%s' "$ARM_BODY" | jpy 'd["accessSAS"]')
arm_req PUT "$(rpc_path rg-prod kept)?$V" "{\"location\":\"eastus\",\"tags\":{\"k\":\"v\"},\"properties\":{\"source\":{\"id\":\"$VM\"}}}"
expect_status "create" 201
arm_req PUT "$(rpc_path rg-prod kept)/restorePoints/rp-1?$V" '{}'
expect_status "create point" 201
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert any(c['name']=='kept' for c in d['collections'])" "$STATE" ||
	fail "state file lacks the new collection"
ls "$WORKDIR" | grep -q 'state.json.tmp' && fail "temporary state file left behind"
kill "$ARMSIM_PID"
wait "$ARMSIM_PID" 2>/dev/null
start_armsim --state "$STATE" --create-seconds 1000 --blob-listen "127.0.0.1:$(cat "$WORKDIR/blob.port")"
expect_eq "SAS good after a restart" 206 "$(curl -s -o /dev/null -w '%{http_code}' -r 0-511 "$SAS")"
expect_eq "grant listed after a restart" "$D" "$(sim GET /_armsim/grants | jpy 'd["value"][0]["diskRestorePointId"]')"
arm_req GET "$(rpc_path RG-PROD KEPT)?$V&\$expand=restorePoints"
expect_status "collection survived a restart" 200
expect_eq "tags survived" '{"k": "v"}' "$(printf '%s' "$ARM_BODY" | jpy 'd["tags"]')"
expect_eq "point still Creating" Creating "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["restorePoints"][0]["properties"]["provisioningState"]')"
arm_req GET "$(rpc_path rg-prod rpc-vm-web-01)?$V"
expect_status "demo content survived" 200
sim_advance 1001
arm_req GET "$(rpc_path rg-prod kept)/restorePoints/rp-1?$V"
expect_eq "finished after the restart" Succeeded "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"
kill "$ARMSIM_PID"
wait "$ARMSIM_PID" 2>/dev/null
start_armsim --state "$STATE"
arm_req GET "$(rpc_path rg-prod kept)/restorePoints/rp-1?$V"
expect_eq "clock-driven change saved" Succeeded "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["provisioningState"]')"

# the state document and its round trip through --seed
start_armsim --demo
sim GET /_armsim/state >"$WORKDIR/seed.json"
st=$(cat "$WORKDIR/seed.json")
for k in subscription locations resourceGroups vms collections; do
	printf '%s' "$st" | jpy "d['$k']" >/dev/null || fail "state lacks $k"
done
for k in id name provisioningState consistencyMode timeCreated sourceRestorePoint disks progress; do
	printf '%s' "$st" | jpy "d['collections'][4]['points'][0]['$k']" >/dev/null || fail "state point lacks $k"
done
for k in id name resourceGroup location source tags points; do
	printf '%s' "$st" | jpy "d['collections'][0]['$k']" >/dev/null || fail "state collection lacks $k"
done
start_armsim --seed "$WORKDIR/seed.json"
a=$(printf '%s' "$st" | jpy 'sorted(p["id"]+p["provisioningState"]+p["timeCreated"] for c in d["collections"] for p in c["points"])')
b=$(sim GET /_armsim/state | jpy 'sorted(p["id"]+p["provisioningState"]+p["timeCreated"] for c in d["collections"] for p in c["points"])')
expect_eq "state -> seed -> state" "$a" "$b"

# a minimal seed
cat >"$WORKDIR/min.json" <<JSON
{"collections":[{"name":"c1","resourceGroup":"rg1","location":"westeurope",
  "source":{"id":"/subscriptions/$DEMO_SUB/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1"},
  "points":[{"name":"p1","timeCreated":"2026-01-02T03:04:05Z"},{"name":"p2"}]}]}
JSON
start_armsim --seed "$WORKDIR/min.json"
arm_req GET "/subscriptions/$DEMO_SUB/resourceGroups/rg1/providers/Microsoft.Compute/restorePointCollections/c1/restorePoints/p1?$V"
expect_status "minimal seed" 200
expect_eq "seed time" 2026-01-02T03:04:05.0000000+00:00 "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["timeCreated"]')"

# malformed seeds: exit 2 and a message that names the problem
bad_seed() { # bad_seed WHAT EXPECTED-TEXT JSON
	printf '%s' "$3" >"$WORKDIR/bad.json"
	local rc=0
	"$ARMSIM" --listen 127.0.0.1:0 --seed "$WORKDIR/bad.json" >"$WORKDIR/bad.out" 2>&1 || rc=$?
	expect_eq "$1: exit status" 2 "$rc"
	grep -qF -- "$2" "$WORKDIR/bad.out" || fail "$1: message lacks '$2': $(cat "$WORKDIR/bad.out")"
}
bad_seed "not JSON" "not valid JSON" '{"collections": [ }'
bad_seed "not an object" '$: expected an object' '[1,2]'
bad_seed "no location" '$.collections[0]: location is required' \
	'{"collections":[{"name":"c","resourceGroup":"r","source":{"id":"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v"}}]}'
bad_seed "bad time" '$.collections[0].points[1].timeCreated' \
	'{"collections":[{"name":"c","resourceGroup":"r","location":"eastus","source":{"id":"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v"},"points":[{"name":"a"},{"name":"b","timeCreated":"yesterday"}]}]}'
bad_seed "bad state" '$.collections[0].points[0]: provisioningState' \
	'{"collections":[{"name":"c","resourceGroup":"r","location":"eastus","source":{"id":"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v"},"points":[{"name":"a","provisioningState":"Sleeping"}]}]}'
bad_seed "wrong type" '$.vms: expected an array' '{"vms":{}}'
bad_seed "missing copy source" 'source collection' \
	'{"collections":[{"name":"c","resourceGroup":"r","location":"eastus","source":{"id":"/subscriptions/8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20/resourceGroups/r/providers/Microsoft.Compute/restorePointCollections/ghost"}}]}'
bad_seed "bad progress" '$.collections[0].points[0].progress[0]' \
	'{"collections":[{"name":"c","resourceGroup":"r","location":"eastus","source":{"id":"/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/v"},"points":[{"name":"a","progress":[101]}]}]}'
rc=0
"$ARMSIM" --seed "$WORKDIR/does-not-exist.json" >/dev/null 2>&1 || rc=$?
expect_eq "missing seed file" 2 "$rc"

# control API: mutate, log with bodies, stats, clock, reset
start_armsim --demo
C=$(rpc_path rg-prod rpc-vm-web-01)
r=$(sim POST /_armsim/mutate "{\"op\":\"add_point\",\"collection\":\"$C\",\"name\":\"rp-oob\"}")
expect_eq "add_point id" "$C/restorePoints/rp-oob" "$(printf '%s' "$r" | jpy 'd["id"]')"
arm_req GET "$C/restorePoints/rp-oob?$V"
expect_status "out-of-band point visible" 200
sim POST /_armsim/mutate "{\"op\":\"remove_point\",\"id\":\"$C/restorePoints/rp-20261120-0200\"}" >/dev/null
arm_req GET "$C/restorePoints/rp-20261120-0200?$V"
expect_status "out-of-band removal" 404
sim POST /_armsim/mutate "{\"op\":\"add_collection\",\"resourceGroup\":\"rg-oob\",\"name\":\"c-oob\",\"location\":\"uksouth\",\"vm\":\"$VM\"}" >/dev/null
arm_req GET "$(rpc_path rg-oob c-oob)?$V"
expect_status "out-of-band collection" 200
sim POST /_armsim/mutate "{\"op\":\"remove_collection\",\"id\":\"$(rpc_path rg-oob c-oob)\"}" >/dev/null
arm_req GET "$(rpc_path rg-oob c-oob)?$V"
expect_status "out-of-band collection removal" 404
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"op":"explode"}' "$ARMSIM_URL/_armsim/mutate")
expect_eq "unknown mutate op" 400 "$code"
arm_req PATCH "$C?$V" '{"tags":{"logged":"yes"}}'
sim GET /_armsim/log | grep RestorePointCollections_Update | jpy 'd["body"]["tags"]["logged"]' | grep -qx yes ||
	fail "request body not in the log"
sim GET /_armsim/log | head -1 | jpy 'd["seq"]' | grep -qx 1 || fail "log seq"
sim GET /_armsim/log | grep -q _armsim && fail "control requests in the log"
total=$(sim GET /_armsim/stats | jpy 'd["total"]')
expect_eq "stats total = log lines" "$(sim GET /_armsim/log | wc -l | tr -d ' ')" "$total"
sim DELETE /_armsim/log >/dev/null
expect_eq "log cleared" 0 "$(sim GET /_armsim/log | wc -l | tr -d ' ')"
expect_eq "stats cleared" 0 "$(sim GET /_armsim/stats | jpy 'd["total"]')"
before=$(sim GET /_armsim/state | jpy 'd["now"]')
sim POST /_armsim/clock '{"advance":86400}' | jpy 'd["now"]' | grep -q . || fail "clock answer"
after=$(sim GET /_armsim/state | jpy 'd["now"]')
[ "${after%%T*}" != "${before%%T*}" ] || fail "the clock did not move a day: $before -> $after"
sim POST /_armsim/faults '{"kind":"status","status":500}' >/dev/null
sim POST /_armsim/reset >/dev/null
arm_req GET "$C/restorePoints/rp-20261120-0200?$V"
expect_status "reset restores the demo (and drops faults)" 200
arm_req GET "$C/restorePoints/rp-oob?$V"
expect_status "reset drops out-of-band points" 404
expect_eq "reset clears the log" 2 "$(sim GET /_armsim/log | wc -l | tr -d ' ')"
sim GET /_armsim/clock | jpy 'd["offset"]' | grep -qx 0.0 || fail "reset keeps the clock offset"
pass
