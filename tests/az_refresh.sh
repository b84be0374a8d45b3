#!/bin/sh
# Token refresh in the background: with 60 s tokens (armsim
# --token-lifetime), the token endpoint and IMDS fail for 22 s from 10 s
# before the refresh window opens (the last third of the lifetime) until
# 8 s before the token expires.  A mixed load (walks after flushes, cat of
# views and progress, stat storms) running from the mount until 10 s past
# the first token's expiry sees zero failed calls, the failed refreshes are
# retried, and the token is replaced before it expires.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

LIFE=${AZ_TOKEN_LIFETIME:-60}
SECRET='az-refresh-secret-9d1e'
start_armsim --demo --token-lifetime "$LIFE" --client "az-app:$SECRET"
export AZURE_TENANT_ID=az-tenant AZURE_CLIENT_ID=az-app AZURE_CLIENT_SECRET="$SECRET"
rel_mount_env -o op_timeout=20
ls -lR "$MNT" >/dev/null || fail "first walk"
left=$(sed -n 's/^expires: .*(in \([0-9]*\) s)$/\1/p' "$MNT/.rpfs/auth")
[ -n "$left" ] || fail "no expiry in .rpfs/auth: $(cat "$MNT/.rpfs/auth")"
t_exp=$(( $(date +%s) + left ))
t_end=$(( t_exp + 10 ))
rel_mixed_load "$t_end"
pids=$REL_PIDS
# the outage: from 10 s before the refresh window to 8 s before expiry
win=$(( LIFE / 3 ))
sleep $(( t_exp - win - 10 - $(date +%s) ))
out=$(( win + 2 ))
fault "{\"match\":{\"operationId\":\"Token\"},\"kind\":\"status\",\"status\":503,\"seconds\":$out}"
fault "{\"match\":{\"operationId\":\"IMDS\"},\"kind\":\"status\",\"status\":503,\"seconds\":$out}"
failed=0
for p in $pids; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || fail "a failed call while the token endpoint was down: $(cat "$WORKDIR"/w.*.err | head -5)"
stats=$(sim GET /_armsim/stats)
n503=$(printf '%s' "$stats" | jq '.by_op_status["Token 503"] // 0')
n200=$(printf '%s' "$stats" | jq '.by_op_status["Token 200"] // 0')
nexp=$(simlog 'select(.auth != "ok")' | wc -l)
ops=$(cat "$WORKDIR"/rounds.* | awk '{ s += $1 } END { print s }')
log "FIGURE refresh: $LIFE s tokens, endpoint down $out s, $ops rounds, $n503 refused token requests, $n200 tokens, $nexp ARM requests without a valid token"
[ "$n503" -ge 2 ] || fail "the refresh was not tried during the outage ($n503 refused token requests)"
[ "$n200" -ge 2 ] || fail "the token was not refreshed after the outage ($n200 tokens)"
[ "$nexp" = 0 ] || fail "$nexp ARM requests went out without a valid token"
grep -q "keeping the current token" "$RPFS_LOG" || fail "no log line for the failed refresh"
pass
