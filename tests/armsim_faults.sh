#!/bin/sh
# armsim: every kind of injected fault (status + code, connection reset,
# truncated body, malformed JSON, latency, 429 with Retry-After), matched by
# operationId, path prefix and method, by count or seeded probability.
. "$TESTS_SRCDIR/lib.sh"
command -v python3 >/dev/null || skip "no python3"

start_armsim --demo
V=api-version=2025-04-01
A=$(rpc_path rg-prod rpc-vm-web-01)
ms() { date +%s%3N; }

# status + code, once
id=$(sim POST /_armsim/faults '{"match":{"operationId":"RestorePointCollections_Get"},"kind":"status","status":503,"code":"ServerBusy","retry_after":3,"count":1}' | jpy 'd["id"]')
[ "$id" -ge 1 ] || fail "no fault id"
arm_req GET "$(rpc_path rg-prod rpc-vm-sql-01)/restorePoints/x?$V"
expect_code "other operations unaffected" 404 ResourceNotFound
arm_req GET "$A?$V"
expect_code "injected 503" 503 ServerBusy
expect_eq "Retry-After" 3 "$(arm_hdr Retry-After)"
[ -n "$(arm_hdr x-ms-request-id)" ] || fail "fault answer without x-ms-request-id"
arm_req GET "$A?$V"
expect_status "count used up" 200
sim GET /_armsim/log | grep '"status":503' | jpy 'd["operationId"]' | grep -qx RestorePointCollections_Get || fail "503 not logged"

# path prefix and method
fault "{\"match\":{\"path_prefix\":\"$(rpc_path rg-dev)\",\"method\":\"PATCH\"},\"kind\":\"status\",\"status\":409,\"code\":\"Conflict\"}"
arm_req GET "$(rpc_path rg-dev rpc-vm-dev-01)?$V"
expect_status "GET not matched" 200
arm_req PATCH "$(rpc_path rg-prod rpc-vm-web-01)?$V" '{"tags":{}}'
expect_status "other prefix not matched" 200
arm_req PATCH "$(rpc_path rg-dev rpc-vm-dev-01)?$V" '{"tags":{}}'
expect_code "prefix and method matched" 409 Conflict
sim GET /_armsim/faults | jpy 'len(d)' | grep -qx 2 || fail "faults list"
sim DELETE /_armsim/faults >/dev/null
sim GET /_armsim/faults | jpy 'len(d)' | grep -qx 0 || fail "faults not cleared"

# connection reset: no answer at all
fault '{"match":{"operationId":"RestorePointCollections_Get"},"kind":"reset","count":1}'
arm_req GET "$A?$V"
expect_eq "reset: no HTTP status" 000 "$ARM_STATUS"
expect_eq "reset: curl sees an empty reply" 52 "$ARM_CURL_RC"

# truncated body: Content-Length promises more than arrives
fault '{"match":{"operationId":"RestorePointCollections_Get"},"kind":"truncate","count":1}'
arm_req GET "$A?$V&\$expand=restorePoints"
expect_eq "truncate: partial transfer" 18 "$ARM_CURL_RC"

# malformed JSON with a consistent length
fault '{"match":{"operationId":"RestorePointCollections_ListAll"},"kind":"malformed","count":1}'
arm_req GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?$V"
expect_status "malformed keeps the status" 200
printf '%s' "$ARM_BODY" | python3 -c 'import json,sys; json.load(sys.stdin)' 2>/dev/null && fail "body is valid JSON"
arm_req GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?$V"
printf '%s' "$ARM_BODY" | python3 -c 'import json,sys; json.load(sys.stdin)' || fail "next body is not JSON"

# latency
fault '{"match":{"operationId":"RestorePoints_Get"},"kind":"latency","latency_ms":400,"count":1}'
t0=$(ms)
arm_req GET "$A/restorePoints/rp-20261120-0200?$V"
t1=$(ms)
expect_status "latency keeps the answer" 200
[ $((t1 - t0)) -ge 400 ] || fail "latency: answered in $((t1 - t0)) ms"
t0=$(ms)
arm_req GET "$A/restorePoints/rp-20261120-0200?$V"
[ $(($(ms) - t0)) -lt 400 ] || fail "latency outlived its count"

# the log is in arrival order, even when a slow answer finishes last
sim DELETE /_armsim/log >/dev/null
fault '{"match":{"operationId":"Subscriptions_Get"},"kind":"latency","latency_ms":700,"count":1}'
curl -s -o /dev/null -H 'Authorization: Bearer rpfs-test-token' "$ARMSIM_URL/subscriptions/$DEMO_SUB?api-version=2022-12-01" &
slow=$!
sleep 0.3
arm_req GET "$A?$V"
expect_eq "the slow request is not logged while it runs" RestorePointCollections_Get \
	"$(sim GET /_armsim/log | jpy 'd["operationId"]')"
wait $slow
expect_eq "arrival order" "Subscriptions_Get RestorePointCollections_Get" \
	"$(sim GET /_armsim/log | python3 -c 'import json,sys; print(" ".join(json.loads(l)["operationId"] for l in sys.stdin))')"
sim GET /_armsim/log | python3 -c 'import json,sys; s=[json.loads(l)["seq"] for l in sys.stdin]; assert s == sorted(s) and len(set(s)) == 2' ||
	fail "seq not in arrival order"

# 429 with Retry-After
fault '{"kind":"throttle","retry_after":7,"count":2}'
arm_req GET "/subscriptions/$DEMO_SUB?api-version=2022-12-01"
expect_code "throttle" 429 TooManyRequests
expect_eq "throttle Retry-After" 7 "$(arm_hdr Retry-After)"
ARM_TOKEN= arm_req POST "$ARMSIM_URL/common/oauth2/v2.0/token" "" --data 'client_id=a&client_secret=b&grant_type=client_credentials&scope=x%2F.default'
expect_status "an empty match leaves the token endpoint alone" 200
arm_req GET "$A?$V"
expect_status "second of count 2" 429
arm_req GET "$A?$V"
expect_status "throttle over" 200

# probability with a seed: the same pattern twice
pattern() {
	local p=
	sim DELETE /_armsim/faults >/dev/null
	fault '{"match":{"operationId":"Subscriptions_Get"},"kind":"status","status":500,"probability":0.5,"seed":42}'
	for i in $(seq 16); do
		arm_req GET "/subscriptions/$DEMO_SUB?api-version=2022-12-01"
		p="$p$ARM_STATUS "
	done
	echo "$p"
}
p1=$(pattern)
p2=$(pattern)
expect_eq "seeded probability repeats" "$p1" "$p2"
case $p1 in *500*) ;; *) fail "probability 0.5 never fired: $p1" ;; esac
case $p1 in *200*) ;; *) fail "probability 0.5 always fired: $p1" ;; esac
sim DELETE /_armsim/faults >/dev/null

# bad rules
curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"kind":"explode"}' "$ARMSIM_URL/_armsim/faults" | grep -qx 400 ||
	fail "unknown kind accepted"

# --latency-ms delays every ARM answer
start_armsim --demo --latency-ms 300
t0=$(ms)
arm_req GET "$A?$V"
[ $(($(ms) - t0)) -ge 300 ] || fail "--latency-ms not applied"
pass
