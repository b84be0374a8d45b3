#!/bin/sh
# armsim: HTTPS with a certificate made at test time; plain HTTP only on
# loopback.
. "$TESTS_SRCDIR/lib.sh"
command -v python3 >/dev/null || skip "no python3"

command -v openssl >/dev/null || skip "no openssl"
need_armsim
rc=0
"$ARMSIM" --listen 0.0.0.0:0 >"$WORKDIR/out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "plain HTTP on a non-loopback address was accepted"
grep -q loopback "$WORKDIR/out" || fail "no reason given: $(cat "$WORKDIR/out")"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout "$WORKDIR/key.pem" -out "$WORKDIR/cert.pem" -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || fail "openssl could not make a certificate"
start_armsim --demo --page-size 5 --tls-cert "$WORKDIR/cert.pem" --tls-key "$WORKDIR/key.pem" \
	--blob-port-file "$WORKDIR/blob.port" --retry-after 0
ARMSIM_URL=https://127.0.0.1:$ARMSIM_PORT
export CURL_CA_BUNDLE=$WORKDIR/cert.pem
arm_req GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?api-version=2025-04-01"
expect_status "HTTPS ListAll" 200
case $(printf '%s' "$ARM_BODY" | jpy 'd["nextLink"]') in "https://127.0.0.1:$ARMSIM_PORT/"*) ;; *) fail "nextLink is not https" ;; esac
ARM_TOKEN= arm_req POST "/common/oauth2/v2.0/token" "" \
	--data 'client_id=a&client_secret=b&grant_type=client_credentials&scope=https%3A%2F%2Fmanagement.azure.com%2F.default'
expect_status "token over HTTPS" 200
arm_req DELETE "$(rpc_path rg-dev rpc-vm-dev-01)?api-version=2025-04-01"
case $(arm_hdr Azure-AsyncOperation) in "https://127.0.0.1:$ARMSIM_PORT/"*) ;; *) fail "Azure-AsyncOperation is not https" ;; esac
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ARMSIM_PORT/subscriptions" || true)
[ "$code" != 200 ] || fail "plain HTTP answered on the TLS port"

# the blob endpoint is HTTPS too, with the same certificate
P=$(rpc_path rg-prod rpc-vm-web-01)/restorePoints/rp-20261120-0200
arm_req GET "$P/diskRestorePoints?api-version=2025-01-02"
D=$(printf '%s' "$ARM_BODY" | jpy 'd["value"][1]["id"]')
arm_req POST "$D/beginGetAccess?api-version=2025-01-02" '{"access":"Read","durationInSeconds":300}'
expect_status "beginGetAccess over HTTPS" 202
arm_req GET "$(arm_hdr Location)"
SAS=$(printf '%s' "$ARM_BODY" | jpy 'd["accessSAS"]')
case $SAS in "https://127.0.0.1:$(cat "$WORKDIR/blob.port")/"*) ;; *) fail "SAS is not https on the blob port: $SAS" ;; esac
expect_eq "blob range over HTTPS" 206 "$(curl -s -o /dev/null -w '%{http_code}' -H 'x-ms-range: bytes=0-511' "$SAS")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(printf '%s' "$SAS" | sed 's/^https:/http:/')" || true)
[ "$code" != 206 ] || fail "plain HTTP answered on the TLS blob port"
pass
