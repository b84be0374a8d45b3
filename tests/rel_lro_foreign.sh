#!/bin/sh
# A Location or Azure-AsyncOperation header that names another host (armsim
# fault kind "body" with headers), on the answers to a point PUT, a
# collection PUT and a DELETE, on a mounted rpfs: that host gets no request
# (so never the token), the call ends within op_timeout, and the daemon
# stays up.  (A mount reads an operation's outcome from the resource
# itself; the client's operation polling, which refuses such URLs, is
# covered by arm_security.sh.)
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
FPF=$WORKDIR/foreign.port
"$ARMSIM" --listen 127.0.0.1:0 --port-file "$FPF" --demo --accept-token rpfs-test-token \
	>>"$WORKDIR/foreign.log" 2>&1 &
_lib_pids="$_lib_pids $!"
wait_for 100 test -s "$FPF" || fail "the foreign armsim did not start"
FOREIGN="http://127.0.0.1:$(cat "$FPF")"
mount_rpfs -o op_timeout=3,retries=1,allow_delete
cd "$MNT" || fail "cd"
ls -lR . >/dev/null || fail "walk"
C=eastus/rg-prod/rpc-vm-web-01
CID=$(cat $C/id)
OP="/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/locations/eastus/operations/00000000-0000-0000-0000-000000000001"
P1=$(ls $C | grep '^rp-' | head -1)
PBODY=$(arm GET "$CID/restorePoints/$P1?api-version=2025-04-01" | jq -c '.properties.provisioningState = "Creating"')
ncase=0

# lro_case DESC OPID STATUS BODY CMD...: ARM answers OPID with STATUS, BODY
# and both headers to the foreign host; CMD may fail, but within op_timeout,
# and the foreign host gets nothing.
lro_case() {
	local desc=$1 op=$2 st=$3 body=$4 lines rule
	shift 4
	ncase=$((ncase + 1))
	lines=$(wc -l <"$RPFS_LOG")
	rule=$(jq -cn --arg op "$op" --argjson st "$st" --arg b "$body" --arg a "$FOREIGN$OP?api-version=2025-04-01" \
		--arg l "$FOREIGN$OP?api-version=2025-04-01&monitor=true" \
		'{match: {operationId: $op}, kind: "body", status: $st, body: $b,
		  headers: {"Azure-AsyncOperation": $a, "Location": $l, "Retry-After": "0"}}')
	fault "$rule"
	elapsed_ms "$@"
	clear_faults
	[ "$REL_MS" -le 4500 ] || fail "$desc: took $REL_MS ms (op_timeout 3 s)"
	kill -0 "$RPFS_PID" 2>/dev/null || fail "$desc: the daemon died"
	n=$(curl -sS "$FOREIGN/_armsim/stats" | jq .total)
	[ "$n" = 0 ] || fail "$desc: the foreign host got $n requests: $(curl -sS "$FOREIGN/_armsim/log" | jq -c '[.path, .auth]' | head -3)"
	log "$desc: rc $REL_RC in $REL_MS ms ($REL_OUT), foreign host untouched"
}

lro_case "point PUT answered 201 with foreign LRO headers" RestorePoints_Create 201 \
	"$(printf '%s' "$PBODY" | jq -c '.name = "rp-rel-lro" | .id = "'"$CID"'/restorePoints/rp-rel-lro"')" \
	mkdir $C/rp-rel-lro
lro_case "point PUT answered 202 with foreign LRO headers" RestorePoints_Create 202 "" \
	mkdir $C/rp-rel-lro2
lro_case "collection PUT answered 201 with foreign LRO headers" RestorePointCollections_CreateOrUpdate 201 \
	"$(arm GET "$CID?api-version=2025-04-01" | jq -c '.location = "westus" | .id |= sub("rg-prod"; "rg-dev")')" \
	mkdir westus/rg-dev/rpc-vm-web-01
lro_case "point DELETE answered 202 with foreign LRO headers" RestorePoints_Delete 202 "" \
	rmdir $C/$P1
log "FIGURE foreign Location/Azure-AsyncOperation: $ncase answers, 0 requests (0 tokens) to the foreign host"
cd /
pass
