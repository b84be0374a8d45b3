#!/bin/sh
# Azure CLI credential: rpfs asks az for the token of the mounted
# subscription (--subscription, so a subscription in another tenant than
# the CLI's default gets the right token), or of $AZURE_TENANT_ID when no
# subscription is known, and reads expiresOn in local time when az prints
# no expires_on (Debian 12's az 2.45).  A fake az on PATH records its
# arguments and prints JSON.
. "$TESTS_SRCDIR/lib.sh"

need_fuse
start_armsim --demo --token-lifetime 7200
tok=$(curl -sS -H 'Metadata: true' "$ARMSIM_URL/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$ARMSIM_URL/" | jq -r .access_token)
[ -n "$tok" ] && [ "$tok" != null ] || fail "no token from armsim"
mkdir -p "$WORKDIR/bin"
# expiresOn only, in local time, 2 hours ahead; a timezone 5:30 east of UTC
export TZ='XST-5:30'
cat >"$WORKDIR/bin/az" <<EOT
#!/bin/sh
printf '%s\n' "\$@" >"$WORKDIR/az.args"
printf '{"accessToken":"$tok","expiresOn":"%s","subscription":"$DEMO_SUB","tenant":"other-tenant","tokenType":"Bearer"}\n' "\$(date -d '+2 hours' '+%Y-%m-%d %H:%M:%S.123456')"
EOT
chmod +x "$WORKDIR/bin/az"
MNT=$WORKDIR/mnt
mkdir -p "$MNT"
env -u RPFS_TOKEN_FILE -u AZURE_TENANT_ID PATH="$WORKDIR/bin:$PATH" "$RPFS" -f \
	-o "endpoint=$ARMSIM_URL,auth=cli,subscription=$DEMO_SUB" -o log_level=debug "$MNT" >>"$RPFS_LOG" 2>&1 &
RPFS_PID=$!
wait_for 100 mountpoint -q "$MNT" || fail "rpfs did not mount with auth=cli"
ls "$MNT/eastus" >/dev/null || fail "listing with the CLI's token"
expect_eq "az arguments" "account get-access-token --resource $ARMSIM_URL/ --subscription $DEMO_SUB -o json" \
	"$(tr '\n' ' ' <"$WORKDIR/az.args" | sed 's/ $//')"
left=$(sed -n 's/^expires: .*(in \([0-9]*\) s)$/\1/p' "$MNT/.rpfs/auth")
[ -n "$left" ] && [ "$left" -gt 7000 ] && [ "$left" -le 7200 ] ||
	fail "expiresOn (local time) read as expiring in ${left:-?} s, not about 7200: $(cat "$MNT/.rpfs/auth")"
grep -q "tenant: other-tenant" "$MNT/.rpfs/auth" || fail "tenant not taken from az: $(cat "$MNT/.rpfs/auth")"
umount_rpfs

# No subscription known: the tenant of the environment
AZURE_TENANT_ID=env-tenant-1 env -u RPFS_TOKEN_FILE -u AZURE_SUBSCRIPTION_ID PATH="$WORKDIR/bin:$PATH" \
	AZURE_CONFIG_DIR="$WORKDIR/noaz" "$RPFS" --check -o "endpoint=$ARMSIM_URL,auth=cli" >"$WORKDIR/check.out" 2>&1 ||
	fail "--check with auth=cli and no subscription: $(cat "$WORKDIR/check.out")"
expect_eq "az arguments without a subscription" "account get-access-token --resource $ARMSIM_URL/ --tenant env-tenant-1 -o json" \
	"$(tr '\n' ' ' <"$WORKDIR/az.args" | sed 's/ $//')"
pass
