#!/bin/sh
# Tokens that live 3 seconds (armsim --token-lifetime 3), client
# credentials from the environment through armsim's token endpoint, under
# a mixed workload (walks after flushes, cat of files and of progress,
# stat storms) for REL_TOKEN_SECONDS (default 60 s): zero user-visible
# failures, and the token is refreshed all along.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

SECS=${REL_TOKEN_SECONDS:-60}
SECRET='tok-secret-5b7c19'
start_armsim --demo --token-lifetime 3 --client "rel-app:$SECRET"
export AZURE_TENANT_ID=rel-tenant AZURE_CLIENT_ID=rel-app AZURE_CLIENT_SECRET="$SECRET"
rel_mount_env -o op_timeout=20
ls -lR "$MNT" >/dev/null || fail "first walk"
clear_log
t_end=$(( $(date +%s) + SECS ))
rel_mixed_load "$t_end"
pids=$REL_PIDS
failed=0
for p in $pids; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || fail "a user-visible failure with 3 s tokens: $(cat "$WORKDIR"/w.*.err | head -5)"
ops=$(cat "$WORKDIR"/rounds.* | awk '{ s += $1 } END { print s }')
stats=$(sim GET /_armsim/stats)
ntok=$(printf '%s' "$stats" | jq '.by_op.Token // 0')
nreq=$(printf '%s' "$stats" | jq .total)
n401=$(simlog 'select(.status == 401)' | wc -l)
nexp=$(simlog 'select(.auth == "expired")' | wc -l)
log "FIGURE tokens: ${SECS} s, $ops workload rounds, $nreq ARM requests, $ntok tokens issued, $n401 answered 401 ($nexp with an expired token), 0 user-visible failures"
[ "$ntok" -ge $(( SECS / 4 )) ] || fail "only $ntok tokens issued in $SECS s with a 3 s lifetime"
# no secret in the daemon's debug log
if grep -q -- "$SECRET" "$RPFS_LOG"; then fail "the client secret is in the log"; fi
pass
