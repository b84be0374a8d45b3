#!/bin/sh
# armsim: the Entra v2 token endpoint (client secret, Basic auth, client
# assertion, AADSTS errors), IMDS, tokens that expire, and throttling.
. "$TESTS_SRCDIR/lib.sh"
command -v python3 >/dev/null || skip "no python3"

start_armsim --demo --client app-1:s3cret --token-lifetime 30
V=api-version=2025-04-01
A=$(rpc_path rg-prod rpc-vm-web-01)
T=$ARMSIM_URL/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token
SCOPE=scope=https%3A%2F%2Fmanagement.azure.com%2F.default

tok() { # tok FORM [CURL-ARGS]: POST the form; sets ARM_STATUS and ARM_BODY
	local form=$1
	shift
	ARM_TOKEN= arm_req POST "$T" "" --data "$form" -H 'Content-Type: application/x-www-form-urlencoded' "$@"
}

tok "client_id=app-1&client_secret=s3cret&grant_type=client_credentials&$SCOPE"
expect_status "client secret" 200
expect_eq "token_type" Bearer "$(printf '%s' "$ARM_BODY" | jpy 'd["token_type"]')"
expect_eq "expires_in is a number" 30 "$(printf '%s' "$ARM_BODY" | jpy 'd["expires_in"]')"
access=$(printf '%s' "$ARM_BODY" | jpy 'd["access_token"]')
ARM_TOKEN=$access arm_req GET "$A?$V"
expect_status "issued token works" 200

tok "client_id=app-1&client_secret=wrong&grant_type=client_credentials&$SCOPE"
expect_status "wrong secret" 401
expect_eq "invalid_client" invalid_client "$(printf '%s' "$ARM_BODY" | jpy 'd["error"]')"
expect_eq "AADSTS code" 7000215 "$(printf '%s' "$ARM_BODY" | jpy 'd["error_codes"][0]')"
case $(printf '%s' "$ARM_BODY" | jpy 'd["error_description"]') in AADSTS7000215:*) ;; *) fail "error_description: $ARM_BODY" ;; esac
for k in timestamp trace_id correlation_id; do
	printf '%s' "$ARM_BODY" | jpy "d['$k']" >/dev/null || fail "AAD error lacks $k"
done
tok "client_id=other&client_secret=s3cret&grant_type=client_credentials&$SCOPE"
expect_status "unknown client" 400
expect_eq "unauthorized_client" 700016 "$(printf '%s' "$ARM_BODY" | jpy 'd["error_codes"][0]')"
tok "client_id=app-1&client_secret=s3cret&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F"
expect_eq "scope without /.default" invalid_scope "$(printf '%s' "$ARM_BODY" | jpy 'd["error"]')"
tok "client_id=app-1&client_secret=s3cret&grant_type=password&$SCOPE"
expect_eq "other grant" unsupported_grant_type "$(printf '%s' "$ARM_BODY" | jpy 'd["error"]')"
tok "client_id=app-1&grant_type=client_credentials&$SCOPE"
expect_status "no credential" 401
tok "grant_type=client_credentials&$SCOPE" -u 'app-1:s3cret'
expect_status "secret in Basic auth" 200
tok "client_id=app-1&grant_type=client_credentials&$SCOPE&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHAtMSJ9.c2ln"
expect_status "client assertion" 200
tok "client_id=app-1&grant_type=client_credentials&$SCOPE&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=notajwt"
expect_status "malformed assertion" 401

# the OpenID discovery document MSAL reads first
ARM_TOKEN= arm_req GET "/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/.well-known/openid-configuration"
expect_status "openid-configuration" 200
expect_eq "token_endpoint" "$T" "$(printf '%s' "$ARM_BODY" | jpy 'd["token_endpoint"]')"
for k in authorization_endpoint issuer jwks_uri; do
	printf '%s' "$ARM_BODY" | jpy "d['$k']" >/dev/null || fail "openid-configuration lacks $k"
done

# tokens expire on armsim's clock
sim_advance 31
ARM_TOKEN=$access arm_req GET "$A?$V"
expect_code "expired token" 401 ExpiredAuthenticationToken
case $(arm_hdr WWW-Authenticate) in *'error="invalid_token"'*) ;; *) fail "WWW-Authenticate: $(arm_hdr WWW-Authenticate)" ;; esac
sim GET /_armsim/log | tail -1 | jpy 'd["auth"]' | grep -qx expired || fail "log does not say expired"

# IMDS
ARM_TOKEN= arm_req GET "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/"
expect_status "IMDS without Metadata" 400
ARM_TOKEN= arm_req GET "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/" "" -H 'Metadata: true'
expect_status "IMDS" 200
for k in expires_in expires_on not_before; do
	printf '%s' "$ARM_BODY" | python3 -c "import json,sys; v=json.load(sys.stdin)['$k']; assert isinstance(v,str) and v.isdigit()" ||
		fail "IMDS $k is not a string of digits: $ARM_BODY"
done
expect_eq "IMDS resource" https://management.azure.com/ "$(printf '%s' "$ARM_BODY" | jpy 'd["resource"]')"
ARM_TOKEN=$(printf '%s' "$ARM_BODY" | jpy 'd["access_token"]') arm_req GET "$A?$V"
expect_status "IMDS token works" 200
ARM_TOKEN= arm_req GET "/metadata/identity/oauth2/token?api-version=2018-02-01" "" -H 'Metadata: true'
expect_status "IMDS without resource" 400

# token routes are counted but not logged
sim GET /_armsim/log | grep -q oauth2 && fail "token requests in the log"
sim GET /_armsim/stats | jpy 'd["by_op"]["Token"]' | grep -qx 9 || fail "Token count: $(sim GET /_armsim/stats)"
sim GET /_armsim/stats | jpy 'd["by_op"]["IMDS"]' | grep -qx 3 || fail "IMDS count"

# --token-lifetime 1: a token is refused once a real second has passed
start_armsim --demo --token-lifetime 1
ARM_TOKEN=$(ARM_TOKEN= arm_req GET "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x" "" -H 'Metadata: true'; printf '%s' "$ARM_BODY" | jpy 'd["access_token"]')
expect_eq "lifetime in IMDS" 1 "$(ARM_TOKEN= arm_req GET "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=x" "" -H 'Metadata: true'; printf '%s' "$ARM_BODY" | jpy 'd["expires_in"]')"
sleep 1.2
ARM_TOKEN=$ARM_TOKEN arm_req GET "$A?$V"
expect_code "expired after --token-lifetime" 401 ExpiredAuthenticationToken
unset ARM_TOKEN

# --accept-token @FILE reads the token from a file
printf 'from-a-file\n' >"$WORKDIR/tok"
start_armsim --demo --accept-token "@$WORKDIR/tok"
ARM_TOKEN=from-a-file arm_req GET "$A?$V"
expect_status "token from a file" 200
ARM_TOKEN="@$WORKDIR/tok" arm_req GET "$A?$V"
expect_status "the file name is not the token" 401

# throttling: 250 reads, refilled at 25/s
start_armsim --demo --throttle
urls=
for i in $(seq 270); do urls="$urls -o /dev/null $ARMSIM_URL$A?$V"; done
codes=$(curl -s -w '%{http_code}\n' -H 'Authorization: Bearer rpfs-test-token' $urls | sort | uniq -c)
echo "$codes" | grep -q ' 429$' || fail "no 429 after 270 quick reads: $codes"
echo "$codes" | grep -q ' 200$' || fail "no 200: $codes"
arm_req GET "$A?$V"
if [ "$ARM_STATUS" = 429 ]; then
	expect_code "throttled" 429 TooManyRequests
	[ "$(arm_hdr Retry-After)" -ge 1 ] || fail "429 without Retry-After"
fi
sleep 1
arm_req GET "$A?$V"
expect_status "refilled after a second" 200
left=$(arm_hdr x-ms-ratelimit-remaining-subscription-reads)
[ "$left" -lt 249 ] || fail "reads bucket not drained: $left"
arm_req PATCH "$A?$V" '{"tags":{"x":"y"}}'
expect_eq "writes bucket" 199 "$(arm_hdr x-ms-ratelimit-remaining-subscription-writes)"
arm_req DELETE "$(rpc_path rg-prod absent)?$V"
expect_eq "deletes bucket" 199 "$(arm_hdr x-ms-ratelimit-remaining-subscription-deletes)"
pass
