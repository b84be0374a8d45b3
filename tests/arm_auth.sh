#!/bin/sh
# Every credential source end to end against armsim: a client secret via
# -o authority, managed identity via imds_endpoint, workload identity via a
# federated token file, the Azure CLI via a fake az on PATH, and a token
# file rewritten while calls are running.
. "$TESTS_SRCDIR/arm_lib.sh"

SECRET='s3cr3t+value/with&odd=chars'
start_armsim --demo --client "rpfs-app:$SECRET" --tenant 11111111-2222-3333-4444-555555555555
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET AZURE_FEDERATED_TOKEN_FILE RPFS_TOKEN_FILE

# nodrv ARGS...: armdrv without the token file.
nodrv() {
	OUT=$("$ARMDRV" -e "$ARMSIM_URL" -s "$DEMO_SUB" "$@" 2>>"$WORKDIR/drv.err")
}

# Client secret from the environment, token endpoint at armsim.
export AZURE_TENANT_ID=11111111-2222-3333-4444-555555555555 AZURE_CLIENT_ID=rpfs-app
export AZURE_CLIENT_SECRET="$SECRET"
nodrv -A "$ARMSIM_URL" -d locations || fail "env: $OUT"
nodrv -A "$ARMSIM_URL" token || fail "env token: $OUT"
case $OUT in *"source=env tenant=11111111-2222-3333-4444-555555555555 "*) ;; *) fail "env: $OUT" ;; esac
export AZURE_CLIENT_SECRET=wrong-secret
if nodrv -A "$ARMSIM_URL" locations; then fail "env: a wrong secret was accepted"; fi
case $OUT in *"errno=EACCES"*"invalid_client"*) ;; *) fail "env wrong secret: $OUT" ;; esac
unset AZURE_CLIENT_SECRET

# Workload identity: the federated token is re-read at every refresh.
printf 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2ln\n' >"$WORKDIR/fed"
export AZURE_FEDERATED_TOKEN_FILE="$WORKDIR/fed"
nodrv -a workload -A "$ARMSIM_URL" locations || fail "workload: $OUT"
nodrv -A "$ARMSIM_URL" token || fail "workload token: $OUT"
case $OUT in *"source=workload "*) ;; *) fail "workload via auto: $OUT" ;; esac
printf 'not-a-jwt\n' >"$WORKDIR/fed"
if nodrv -a workload -A "$ARMSIM_URL" locations; then fail "workload: a bad assertion was accepted"; fi
case $OUT in *"errno=EACCES"*) ;; *) fail "workload bad assertion: $OUT" ;; esac
unset AZURE_FEDERATED_TOKEN_FILE AZURE_TENANT_ID AZURE_CLIENT_ID

# Managed identity through imds_endpoint (explicit, so auto uses it too).
nodrv -a msi -I "$ARMSIM_URL" locations || fail "msi: $OUT"
nodrv -I "$ARMSIM_URL" token || fail "msi via auto: $OUT"
case $OUT in *"source=msi "*) ;; *) fail "msi via auto: $OUT" ;; esac

# Azure CLI: a fake az on PATH, run without a shell; it prints its argv.
mkdir -p "$WORKDIR/bin"
cat >"$WORKDIR/bin/az" <<EOT
#!/bin/sh
printf '%s\n' "\$@" >"$WORKDIR/az.args"
exp=\$(( \$(date +%s) + 3600 ))
printf '{"accessToken":"rpfs-test-token","expiresOn":"x","expires_on":%s,"tenant":"cli-tenant","tokenType":"Bearer"}\n' "\$exp"
EOT
chmod +x "$WORKDIR/bin/az"
PATH="$WORKDIR/bin:$PATH" nodrv -a cli locations || fail "cli: $OUT"
PATH="$WORKDIR/bin:$PATH" nodrv -a cli token || fail "cli token: $OUT"
case $OUT in *"source=cli tenant=cli-tenant "*) ;; *) fail "cli: $OUT" ;; esac
expect_eq "az arguments" "account get-access-token --resource $ARMSIM_URL/ --subscription $DEMO_SUB -o json" "$(tr '\n' ' ' <"$WORKDIR/az.args" | sed 's/ $//')"

# A token ARM refuses: one refresh (the file re-read), one retry, EACCES.
printf 'not-a-valid-token\n' >"$WORKDIR/bad"
curl -sS -f -X DELETE "$ARMSIM_URL/_armsim/log" >/dev/null
OUT=$("$ARMDRV" -e "$ARMSIM_URL" -s "$DEMO_SUB" -t "$WORKDIR/bad" locations 2>>"$WORKDIR/drv.err")
case $OUT in *"errno=EACCES status=401 "*) ;; *) fail "refused token: $OUT" ;; esac
n=$(simlog 'select(.auth=="invalid")' | wc -l)
expect_eq "requests with a refused token (first + after refresh)" 2 "$n"

# token_file rewritten mid-run: start with an issued token, switch the
# file to the fixed token, then expire every issued token on armsim's clock.
# Calls keep working only if the file was re-read.
tok=$(curl -sS -f -X POST --data "grant_type=client_credentials&client_id=rpfs-app&client_secret=$(printf %s "$SECRET" | jq -sRr @uri)&scope=x/.default" \
	"$ARMSIM_URL/t/oauth2/v2.0/token" | jq -r .access_token)
[ -n "$tok" ] && [ "$tok" != null ] || fail "could not get a token from armsim"
printf '%s\n' "$tok" >"$WORKDIR/tf"
curl -sS -f -X DELETE "$ARMSIM_URL/_armsim/log" >/dev/null
"$ARMDRV" -e "$ARMSIM_URL" -s "$DEMO_SUB" -t "$WORKDIR/tf" -R 0 loop 5 2 >"$WORKDIR/loop.out" 2>>"$WORKDIR/drv.err" &
loop=$!
sleep 1.5
printf '%s\n' rpfs-test-token >"$WORKDIR/tf.new"
mv "$WORKDIR/tf.new" "$WORKDIR/tf"
sleep 0.5
sim POST /_armsim/clock '{"advance":7200}' >/dev/null
wait $loop || fail "token_file loop: $(cat "$WORKDIR/loop.out")"
grep -q '^calls [0-9]* failures 0$' "$WORKDIR/loop.out" || fail "token_file loop: $(cat "$WORKDIR/loop.out")"
expired=$(simlog 'select(.auth!="ok")' | wc -l)
expect_eq "requests refused after the rewrite" 0 "$expired"
pass
