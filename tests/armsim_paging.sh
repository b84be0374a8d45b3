#!/bin/sh
# armsim: nextLink/$skipToken paging of the list operations, with a small
# page size and with empty pages that still carry a nextLink.
. "$TESTS_SRCDIR/lib.sh"
command -v python3 >/dev/null || skip "no python3"

V=api-version=2025-04-01

# walk URL: follow nextLink to the end; prints "PAGES EMPTY-PAGES ITEMS"
walk() {
	local url=$1 pages=0 empty=0 items=0 n
	while [ -n "$url" ]; do
		arm_req GET "$url"
		expect_status "page $pages of $1" 200
		n=$(printf '%s' "$ARM_BODY" | jpy 'len(d["value"])')
		pages=$((pages + 1))
		[ "$n" -eq 0 ] && empty=$((empty + 1))
		items=$((items + n))
		url=$(printf '%s' "$ARM_BODY" | jpy 'd.get("nextLink") or ""')
		case $url in "" | "$ARMSIM_URL"/*) ;; *) fail "nextLink not absolute to armsim: $url" ;; esac
		[ $pages -lt 100 ] || fail "paging does not end"
	done
	echo "$pages $empty $items"
}

start_armsim --demo --page-size 5
expect_eq "ListAll, 5 per page" "3 0 13" "$(walk "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?$V")"
expect_eq "List rg-dev" "1 0 3" "$(walk "$(rpc_path rg-dev)?$V")"
expect_eq "List RG-PROD (both casings)" "2 0 6" "$(walk "$(rpc_path RG-PROD)?$V")"
arm_req GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?$V"
next=$(printf '%s' "$ARM_BODY" | jpy 'd["nextLink"]')
case $next in *'$skipToken='*'api-version='* | *'api-version='*'$skipToken='*) ;; *) fail "nextLink: $next" ;; esac
first=$(printf '%s' "$ARM_BODY" | jpy 'd["value"][0]["name"]')
arm_req GET "$next"
second=$(printf '%s' "$ARM_BODY" | jpy 'd["value"][0]["name"]')
[ "$first" != "$second" ] || fail "the second page repeats the first"
arm_req GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?$V&\$skipToken=garbage"
expect_code "bad skip token" 400 InvalidSkipToken
expect_eq "resource groups, 5 per page" "1 0 4" "$(walk "/subscriptions/$DEMO_SUB/resourcegroups?api-version=2021-04-01")"
# the Host header decides the nextLink's host
arm_req GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?$V" "" -H "Host: localhost:$ARMSIM_PORT"
case $(printf '%s' "$ARM_BODY" | jpy 'd["nextLink"]') in "http://localhost:$ARMSIM_PORT/"*) ;; *) fail "nextLink ignores Host" ;; esac
kill "$ARMSIM_PID"
wait "$ARMSIM_PID" 2>/dev/null

start_armsim --demo --page-size 4 --empty-pages
r=$(walk "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?$V")
set -- $r
expect_eq "all items despite empty pages" 13 "$3"
[ "$2" -ge 3 ] || fail "expected empty pages, got: $r"
arm_req GET "/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections?$V"
expect_eq "first page empty" 0 "$(printf '%s' "$ARM_BODY" | jpy 'len(d["value"])')"
printf '%s' "$ARM_BODY" | jpy 'd["nextLink"]' | grep -q skipToken || fail "empty page without nextLink"
pass
