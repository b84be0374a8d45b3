#!/bin/sh
# Token refresh: tokens live 3 seconds; a 15-second workload on 4 threads
# must see no failed call (refresh ahead of expiry, and once after a 401).
. "$TESTS_SRCDIR/arm_lib.sh"

start_armsim --demo --token-lifetime 3 --client rpfs-app:refresh-secret
export AZURE_TENANT_ID=t AZURE_CLIENT_ID=rpfs-app AZURE_CLIENT_SECRET=refresh-secret
unset AZURE_FEDERATED_TOKEN_FILE RPFS_TOKEN_FILE
OUT=$("$ARMDRV" -e "$ARMSIM_URL" -s "$DEMO_SUB" -a env -A "$ARMSIM_URL" -R 0 loop 15 4 2>>"$WORKDIR/drv.err") ||
	fail "workload failed: $OUT"
case $OUT in *"failures 0"*) ;; *) fail "failed calls: $OUT" ;; esac
calls=$(printf '%s\n' "$OUT" | sed -n 's/^calls \([0-9]*\) .*/\1/p')
[ "$calls" -ge 100 ] || fail "only $calls calls in 15 s"
# Tokens were refreshed (more than one was used) and none of the
# refused requests became a failure.
ok=$(simlog 'select(.auth=="ok")' | wc -l)
[ "$ok" -ge 100 ] || fail "only $ok authorised requests"
log "calls=$calls refused=$(simlog 'select(.auth!="ok")' | wc -l)"

# A token that ARM considers expired before the client does (armsim's clock
# jumps ahead): the 401 makes one refresh and the call is repeated.
curl -sS -f -X DELETE "$ARMSIM_URL/_armsim/log" >/dev/null
"$ARMDRV" -e "$ARMSIM_URL" -s "$DEMO_SUB" -a env -A "$ARMSIM_URL" -R 0 loop 4 2 >"$WORKDIR/loop2.out" 2>>"$WORKDIR/drv.err" &
loop=$!
sleep 1
sim POST /_armsim/clock '{"advance":600}' >/dev/null
wait $loop || fail "after the clock jump: $(cat "$WORKDIR/loop2.out")"
grep -q 'failures 0$' "$WORKDIR/loop2.out" || fail "after the clock jump: $(cat "$WORKDIR/loop2.out")"
expired=$(simlog 'select(.auth=="expired")' | wc -l)
[ "$expired" -ge 1 ] || log "note: no request met an expired token (refresh won the race)"
pass
