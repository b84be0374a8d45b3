#!/bin/sh
# A token holding a control character (here CR LF and a header after it)
# is refused from every source: the token endpoint (client secret and
# workload identity), managed identity (IMDS) and the Azure CLI.  rpfs
# --check and the mount fail with a message that says why, and armsim
# receives no ARM request, so no injected header ever leaves rpfs.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
need_fuse

start_armsim --demo --client "ctl-app:ctl-secret"
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_FEDERATED_TOKEN_FILE RPFS_TOKEN_FILE
# armsim accepts rpfs-test-token: the injected token would pass if sent.
BAD='rpfs-test-token\r\nX-Injected: 1'
BODY="{\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext_expires_in\":3599,\"access_token\":\"$BAD\"}"
IMDS_BODY="{\"token_type\":\"Bearer\",\"expires_in\":\"3599\",\"expires_on\":\"$(( $(date +%s) + 3599 ))\",\"resource\":\"$ARMSIM_URL/\",\"access_token\":\"$BAD\"}"
fault "{\"match\":{\"operationId\":\"Token\"},\"kind\":\"body\",\"body\":$(printf '%s' "$BODY" | jq -Rs .)}"
fault "{\"match\":{\"operationId\":\"IMDS\"},\"kind\":\"body\",\"body\":$(printf '%s' "$IMDS_BODY" | jq -Rs .)}"
mkdir -p "$WORKDIR/bin"
cat >"$WORKDIR/bin/az" <<EOT
#!/bin/sh
printf '{"accessToken":"$BAD","expires_on":%s,"tenant":"t","tokenType":"Bearer"}\n' \$(( \$(date +%s) + 3600 ))
EOT
chmod +x "$WORKDIR/bin/az"
printf 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n' >"$WORKDIR/fed"

# expect_refused WHAT OPTS [VAR=VALUE...]: rpfs --check -o OPTS with that
# environment fails and says the token holds a control character.
expect_refused() {
	local what=$1 opts=$2 out
	shift 2
	out=$(env "$@" "$RPFS" --check -o "endpoint=$ARMSIM_URL,subscription=$DEMO_SUB,$opts" 2>&1) &&
		fail "$what: --check accepted a token with CR LF: $out"
	case $out in
	*"control character"*) ;;
	*) fail "$what: no clear message: $out" ;;
	esac
	log "$what: $(printf '%s' "$out" | grep -m1 'control character')"
}

clear_log
expect_refused "token endpoint" "authority=$ARMSIM_URL,auth=env" \
	AZURE_TENANT_ID=t AZURE_CLIENT_ID=ctl-app AZURE_CLIENT_SECRET=ctl-secret
expect_refused "workload identity" "authority=$ARMSIM_URL,auth=workload" \
	AZURE_TENANT_ID=t AZURE_CLIENT_ID=ctl-app AZURE_FEDERATED_TOKEN_FILE="$WORKDIR/fed"
expect_refused "managed identity" "imds_endpoint=$ARMSIM_URL,auth=msi"
expect_refused "Azure CLI" auth=cli PATH="$WORKDIR/bin:$PATH"

# The mount fails too, leaving nothing mounted.
MNT=$WORKDIR/mnt
mkdir -p "$MNT"
AZURE_TENANT_ID=t AZURE_CLIENT_ID=ctl-app AZURE_CLIENT_SECRET=ctl-secret \
	"$RPFS" -f -o "endpoint=$ARMSIM_URL,authority=$ARMSIM_URL,auth=env,subscription=$DEMO_SUB" \
	"$MNT" >"$WORKDIR/mount.out" 2>&1 &
RPFS_PID=$!
wait "$RPFS_PID" && fail "the mount succeeded with a token holding CR LF"
RPFS_PID=
mountpoint -q "$MNT" && fail "something is mounted after the refused token"
grep -q 'control character' "$WORKDIR/mount.out" || fail "the mount's message: $(cat "$WORKDIR/mount.out")"

n=$(sim GET /_armsim/log | wc -l)
[ "$n" = 0 ] || fail "$n ARM requests reached armsim with the injected token: $(sim GET /_armsim/log | head -3)"
pass
