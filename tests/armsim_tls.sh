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
start_armsim --demo --page-size 5 --tls-cert "$WORKDIR/cert.pem" --tls-key "$WORKDIR/key.pem"
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
pass
