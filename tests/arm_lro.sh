#!/bin/sh
# Long-running operations: a restore point create polled through
# Azure-AsyncOperation, through Location, and through the resource's
# provisioningState; a delete polled through Location; Retry-After obeyed
# between polls.
. "$TESTS_SRCDIR/arm_lib.sh"

start_armsim --demo --retry-after 1 --create-seconds 3 --delete-seconds 2
RG=rg-prod
C=rpc-vm-sql-01

fresh
drv_ok "create polled via Azure-AsyncOperation" -P async -w 30 putrp $RG $C rp-async
case $OUT in *"status 201 state Creating"*"operation done"*) ;; *) fail "async: $OUT" ;; esac
polls=$(simlog 'select(.operationId=="Operations_Get" and (.query|test("monitor")|not))' | wc -l)
[ "$polls" -ge 2 ] || fail "async: $polls polls of the operation status"
mon=$(simlog 'select(.operationId=="Operations_Get" and (.query|test("monitor")))' | wc -l)
expect_eq "async: Location polls" 0 "$mon"
# Retry-After: 1 between polls (and after the PUT).
gaps=$(sim GET /_armsim/log | jq -s '[.[] | .t_ms] | [range(1; length) as $i | .[$i] - .[$i-1]] | min')
[ "$gaps" -ge 1000 ] || fail "async: a poll came $gaps ms after the previous request (Retry-After 1)"
drv_ok "state after async" getrp $RG $C rp-async
case $OUT in *"state Succeeded"*) ;; *) fail "async: point not Succeeded: $OUT" ;; esac

fresh
drv_ok "create polled via Location" -P location -w 30 putrp $RG $C rp-location
case $OUT in *"operation done"*) ;; *) fail "location: $OUT" ;; esac
mon=$(simlog 'select(.operationId=="Operations_Get" and (.query|test("monitor")))' | wc -l)
[ "$mon" -ge 2 ] || fail "location: $mon polls of the Location URL"
s202=$(simlog 'select(.operationId=="Operations_Get" and .status==202)' | wc -l)
[ "$s202" -ge 1 ] || fail "location: never saw 202 while running"
async=$(simlog 'select(.operationId=="Operations_Get" and (.query|test("monitor")|not))' | wc -l)
expect_eq "location: async polls" 0 "$async"
gaps=$(sim GET /_armsim/log | jq -s '[.[] | .t_ms] | [range(1; length) as $i | .[$i] - .[$i-1]] | min')
[ "$gaps" -ge 1000 ] || fail "location: a poll came $gaps ms after the previous request"

fresh
drv_ok "create polled via provisioningState" -P state -w 30 putrp $RG $C rp-state
gets=$(simlog 'select(.operationId=="RestorePoints_Get")' | wc -l)
[ "$gets" -ge 2 ] || fail "state: $gets GETs of the point"
ops=$(simlog 'select(.operationId=="Operations_Get")' | wc -l)
expect_eq "state: operation polls" 0 "$ops"

fresh
drv_ok "delete polled via Location" -P location -w 30 delrp $RG $C rp-location
case $OUT in *"status 202"*"operation done"*) ;; *) fail "delete: $OUT" ;; esac
drv_errno ENOENT "deleted point" getrp $RG $C rp-location
drv_ok "delete polled via Azure-AsyncOperation" -P async -w 30 delrp $RG $C rp-async
drv_errno ENOENT "deleted point" getrp $RG $C rp-async

# A wait shorter than the operation: ETIMEDOUT, and the operation goes on.
drv_errno ETIMEDOUT "short wait" -w 1 putrp $RG $C rp-slow
# Meanwhile a second create on the same VM is refused: EBUSY after retries.
drv_errno EBUSY "concurrent create on the VM" -r 1 putrp $RG $C rp-second
# The same PUT again (a retry after a lost answer) meets the point: 200.
sleep 3
drv_ok "repeated PUT" -r 1 putrp $RG $C rp-slow
case $OUT in *"status 200"*) ;; *) fail "repeated PUT: $OUT" ;; esac
# A bad name never leaves the client.
fresh
drv_errno EINVAL "bad name" putrp $RG $C 'bad?name'
n=$(simlog 'select(.method=="PUT")' | wc -l)
expect_eq "requests for a bad name" 0 "$n"

# A cross-region copy: collection PUT with the source collection, point PUT
# with the source point, progress from the instance view.
drv_ok "source collection" get $RG $C expand
src_rp=$(printf '%s\n' "$OUT" | awk '$1 == "point" && $3 == "Succeeded" {print $2; exit}')
[ -n "$src_rp" ] || fail "no Succeeded point in $C: $OUT"
drv_ok "copy collection" putrpc rg-network "$C-dr" westus2 "/subscriptions/$DEMO_SUB/resourceGroups/$RG/providers/Microsoft.Compute/restorePointCollections/$C"
drv_ok "copy point" putrp rg-network "$C-dr" "$src_rp" "/subscriptions/$DEMO_SUB/resourceGroups/$RG/providers/Microsoft.Compute/restorePointCollections/$C/restorePoints/$src_rp"
drv_ok "copy progress" getrp rg-network "$C-dr" "$src_rp" iv
case $OUT in *"progress "*) ;; *) fail "no progress lines: $OUT" ;; esac
sim POST /_armsim/clock '{"advance":100000}' >/dev/null
drv_ok "copy progress" getrp rg-network "$C-dr" "$src_rp" iv
n=$(printf '%s\n' "$OUT" | grep -c '^progress .* 100 Succeeded$')
d=$(printf '%s\n' "$OUT" | grep -c '^disk ')
[ "$n" -ge 1 ] && [ "$n" = "$d" ] || fail "copy not complete on every disk: $OUT"
# A copy of that copy is refused.
drv_errno EINVAL "copy of a copy" -r 0 putrpc rg-dev "$C-dr2" westus3 "/subscriptions/$DEMO_SUB/resourceGroups/rg-network/providers/Microsoft.Compute/restorePointCollections/$C-dr"

# The 500-points-per-VM limit: EDQUOT.
kill "$ARMSIM_PID" 2>/dev/null
seed=$WORKDIR/full.json
{
	printf '{"subscription":"%s","collections":[{"name":"full","resourceGroup":"rg","location":"eastus",' "$DEMO_SUB"
	printf '"source":{"id":"/subscriptions/%s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"},"points":[' "$DEMO_SUB"
	i=0
	while [ $i -lt 500 ]; do
		[ $i -gt 0 ] && printf ','
		printf '{"name":"rp%03d"}' $i
		i=$((i + 1))
	done
	printf ']}]}\n'
} >"$seed"
start_armsim --seed "$seed"
drv_errno EDQUOT "501st point" -r 1 putrp rg full rp-too-many
pass
