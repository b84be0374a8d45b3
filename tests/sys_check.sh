#!/bin/sh
# rpfs --version, --check and start-up failures: one clear line on stderr,
# a non-zero exit and nothing mounted (nor a second mount over a live one);
# the subscription found as rpfs(1) says when no option gives it.
. "$TESTS_SRCDIR/lib.sh"
start_armsim --demo
printf 'rpfs-test-token\n' >"$WORKDIR/token"
unset AZURE_SUBSCRIPTION_ID AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET
export AZURE_CONFIG_DIR=$WORKDIR/az-empty

out=$("$RPFS" --version) || fail "--version failed"
for lib in "rpfs 0.1.0" libfuse libcurl json-c; do
	echo "$out" | grep -q "^$lib" || fail "--version lacks $lib: $out"
done

# --check with the subscription given.
base="endpoint=$ARMSIM_URL,token_file=$WORKDIR/token"
out=$("$RPFS" --check -o "$base,subscription=$DEMO_SUB") || fail "--check failed: $out"
for want in "credential: token_file" "endpoint: $ARMSIM_URL" "subscription: $DEMO_SUB" "locations: "; do
	echo "$out" | grep -q "$want" || fail "--check output lacks '$want': $out"
done
echo "$out" | grep -q rpfs-test-token && fail "--check printed the token"

# No subscription: the only one the credential sees.
out=$("$RPFS" --check -o "$base") || fail "--check without subscription failed: $out"
echo "$out" | grep -q "subscription: $DEMO_SUB (from the only one the credential sees)" ||
	fail "subscription not taken from the credential: $out"

# No subscription: the Azure CLI's default comes first.
mkdir -p "$WORKDIR/az"
printf '\357\273\277{"subscriptions":[{"id":"11111111-1111-1111-1111-111111111111","isDefault":false},{"id":"%s","isDefault":true}]}' \
	"$DEMO_SUB" >"$WORKDIR/az/azureProfile.json"
out=$(AZURE_CONFIG_DIR=$WORKDIR/az "$RPFS" --check -o "$base") || fail "--check with az profile: $out"
echo "$out" | grep -q "from Azure CLI default" || fail "az default not used: $out"

# AZURE_SUBSCRIPTION_ID beats the CLI default.
out=$(AZURE_SUBSCRIPTION_ID=$DEMO_SUB AZURE_CONFIG_DIR=$WORKDIR/az "$RPFS" --check -o "$base") ||
	fail "--check with AZURE_SUBSCRIPTION_ID: $out"
echo "$out" | grep -q "from environment" || fail "environment not used: $out"

# Failures before anything is mounted: exit 1, one line naming the problem.
mkdir -p "$WORKDIR/mnt"
expect_start_failure() {
	local want=$1; shift
	local err
	if err=$("$RPFS" "$@" "$WORKDIR/mnt" 2>&1 >/dev/null); then
		fail "rpfs $* succeeded"
	fi
	echo "$err" | grep -q "$want" || fail "rpfs $*: message lacks '$want': $err"
	mountpoint -q "$WORKDIR/mnt" && fail "rpfs $* left a mount behind"
	return 0
}
expect_start_failure "unknown option" -o "$base,subscription=$DEMO_SUB,bogus=1"
expect_start_failure "http:// is accepted only for loopback" -o "endpoint=http://192.0.2.1,subscription=s,token_file=$WORKDIR/token"
expect_start_failure "secret" -o "$base,client_secret=abc,subscription=$DEMO_SUB"
# A refused connection retried until op_timeout is still "cannot connect" (EHOSTUNREACH).
expect_start_failure "No route to host" -o "endpoint=http://127.0.0.1:1,token_file=$WORKDIR/token,subscription=$DEMO_SUB,op_timeout=2"
printf 'not-a-valid-token\n' >"$WORKDIR/badtoken"
expect_start_failure "Permission denied" -o "endpoint=$ARMSIM_URL,token_file=$WORKDIR/badtoken,subscription=$DEMO_SUB,retries=0"
expect_start_failure "cannot reach ARM" -o "$base,subscription=00000000-0000-0000-0000-000000000000,retries=0"

# Mounting again over a live rpfs mount is refused, as mount(8) does, and
# stacks nothing; the first mount keeps working.
mount_rpfs
if err=$("$RPFS" -o "$base,subscription=$DEMO_SUB" "$MNT" 2>&1 >/dev/null); then
	fail "a second rpfs mounted over the first"
fi
echo "$err" | grep -q "already mounted on $MNT" || fail "second mount: message lacks 'already mounted': $err"
n=$(awk -v m="$MNT" '$5 == m' /proc/self/mountinfo | wc -l)
expect_eq "mounts on $MNT after the second try" 1 "$n"
ls "$MNT/eastus" >/dev/null || fail "the first mount stopped working"
pass
