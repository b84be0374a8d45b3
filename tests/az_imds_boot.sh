#!/bin/sh
# Managed identity at boot: IMDS answers 410 for 20 s (as while its host
# is updated), then 404 and 429 once each; a mount with auth=msi started
# meanwhile waits and succeeds, and IMDS was asked again along the way.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

need_fuse
start_armsim --demo
fault '{"match":{"operationId":"IMDS"},"kind":"status","status":410,"seconds":20}'
MNT=$WORKDIR/mnt
mkdir -p "$MNT"
env -u RPFS_TOKEN_FILE -u AZURE_CLIENT_ID "$RPFS" -f \
	-o "endpoint=$ARMSIM_URL,imds_endpoint=$ARMSIM_URL,auth=msi,subscription=$DEMO_SUB" \
	-o log_level=debug "$MNT" >>"$RPFS_LOG" 2>&1 &
RPFS_PID=$!
wait_for 900 mountpoint -q "$MNT" || fail "rpfs did not mount while IMDS answered 410 for 20 s"
ls "$MNT/eastus" >/dev/null || fail "listing after the mount"
n410=$(sim GET /_armsim/stats | jq '.by_op_status["IMDS 410"] // 0')
n200=$(sim GET /_armsim/stats | jq '.by_op_status["IMDS 200"] // 0')
[ "$n410" -ge 3 ] || fail "IMDS asked only $n410 times while it answered 410"
[ "$n200" -ge 1 ] || fail "no IMDS token after the outage"
grep -q "source: msi" "$MNT/.rpfs/auth" || fail "not using managed identity: $(cat "$MNT/.rpfs/auth")"
umount_rpfs

# 404 then 429 then 503: retried too (each once, so quickly)
fault '{"match":{"operationId":"IMDS"},"kind":"status","status":404,"count":1}'
fault '{"match":{"operationId":"IMDS"},"kind":"status","status":429,"count":1}'
fault '{"match":{"operationId":"IMDS"},"kind":"status","status":503,"count":1}'
env -u RPFS_TOKEN_FILE -u AZURE_CLIENT_ID "$RPFS" --check \
	-o "endpoint=$ARMSIM_URL,imds_endpoint=$ARMSIM_URL,auth=msi,subscription=$DEMO_SUB" \
	>"$WORKDIR/check.out" 2>&1 || fail "--check after IMDS 404, 429, 503: $(cat "$WORKDIR/check.out")"
# a refusal is not retried
fault '{"match":{"operationId":"IMDS"},"kind":"status","status":400,"code":"invalid_request","count":1}'
if env -u RPFS_TOKEN_FILE -u AZURE_CLIENT_ID "$RPFS" --check \
	-o "endpoint=$ARMSIM_URL,imds_endpoint=$ARMSIM_URL,auth=msi,subscription=$DEMO_SUB" \
	>"$WORKDIR/check.out" 2>&1; then
	fail "--check succeeded though IMDS refused (400)"
fi
pass
