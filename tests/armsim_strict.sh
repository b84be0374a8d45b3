#!/bin/sh
# armsim is strict where ARM is: an api-version the service does not have
# (well-formed, in range, but never released) is 400
# InvalidApiVersionParameter whose message lists the versions it has, for
# Microsoft.Compute and Microsoft.Resources routes alike; a body sent
# without a JSON Content-Type is 415 UnsupportedMediaType, and nothing is
# created.
. "$TESTS_SRCDIR/lib.sh"

start_armsim --demo
P=$(rpc_path rg-prod rpc-vm-web-01)
arm_req GET "$P?api-version=2021-05-01"
expect_code "a Compute api-version that does not exist" 400 InvalidApiVersionParameter
case $ARM_BODY in *2025-04-01*2026-03-01*) ;; *) fail "the message does not list Compute's versions: $ARM_BODY" ;; esac
arm_req GET "$P?api-version=2025-04-01-preview"
expect_code "a preview that does not exist" 400 InvalidApiVersionParameter
arm_req GET "/subscriptions/$DEMO_SUB/resourcegroups?api-version=2021-05-01"
expect_code "a Resources api-version that does not exist" 400 InvalidApiVersionParameter
case $ARM_BODY in *2021-04-01*) ;; *) fail "the message does not list the Resources versions: $ARM_BODY" ;; esac
for v in 2021-04-01 2022-12-01 2024-11-01; do
	arm_req GET "/subscriptions/$DEMO_SUB/resourcegroups?api-version=$v"
	expect_status "resource groups api-version $v" 200
done
for v in 2024-11-01 2025-04-01 2026-03-01; do
	arm_req GET "$P?api-version=$v"
	expect_status "Compute api-version $v" 200
done

# Content-Type
N=$(rpc_path rg-dev rpc-strict)
body='{"location":"westus2","properties":{"source":{"id":"'"$P"'"}}}'
for ct in 'text/plain' 'application/x-www-form-urlencoded' ''; do
	st=$(curl -sS -o "$WORKDIR/b" -w '%{http_code}' -X PUT -H 'Authorization: Bearer rpfs-test-token' \
		-H "Content-Type: $ct" --data-binary "$body" "$ARMSIM_URL$N?api-version=2025-04-01")
	expect_eq "PUT with Content-Type '$ct'" 415 "$st"
	expect_eq "its code" UnsupportedMediaType "$(jpy 'd["error"]["code"]' <"$WORKDIR/b")"
done
arm_req GET "$N?api-version=2025-04-01"
expect_status "nothing created by a refused PUT" 404
st=$(curl -sS -o "$WORKDIR/b" -w '%{http_code}' -X PATCH -H 'Authorization: Bearer rpfs-test-token' \
	-H 'Content-Type: text/json' --data-binary '{"tags":{"a":"b"}}' "$ARMSIM_URL$P?api-version=2025-04-01")
expect_eq "PATCH with text/json" 415 "$st"
arm_req GET "$P?api-version=2025-04-01"
[ "$(printf '%s' "$ARM_BODY" | jpy 'd.get("tags", {}).get("a", "")')" = "" ] || fail "a refused PATCH changed the tags"
arm_req PUT "$N?api-version=2025-04-01" "$body" -H 'Content-Type: application/json; charset=utf-8'
[ "$ARM_STATUS" != 415 ] || fail "application/json; charset=utf-8 refused: $ARM_BODY"
arm_req PUT "$N?api-version=2025-04-01" "$body"
case $ARM_STATUS in 2*) ;; *) fail "the same PUT with application/json: $ARM_STATUS $ARM_BODY" ;; esac
pass
