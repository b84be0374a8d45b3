#!/bin/sh
# Paging: 1,000 collections with page size 7 and an empty page before every
# page; every nextLink followed, nothing lost or doubled, page count exact.
. "$TESTS_SRCDIR/arm_lib.sh"

seed=$WORKDIR/seed.json
{
	printf '{"subscription":"%s","collections":[' "$DEMO_SUB"
	i=0
	while [ $i -lt 1000 ]; do
		[ $i -gt 0 ] && printf ','
		rg=rg-$((i % 13))
		printf '{"name":"c%04d","resourceGroup":"%s","location":"eastus","source":{"id":"/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/vm%04d"}}' \
			$i $rg "$DEMO_SUB" $rg $i
		i=$((i + 1))
	done
	printf ']}\n'
} >"$seed"

start_armsim --seed "$seed" --page-size 7 --empty-pages
drv_ok "list 1000 collections" -R 0 list
n=$(printf '%s\n' "$OUT" | grep -c '^collection ')
expect_eq "collections listed" 1000 "$n"
uniq=$(printf '%s\n' "$OUT" | awk '/^collection /{print $2"/"$3}' | sort -u | wc -l)
expect_eq "distinct collections" 1000 "$uniq"
pages=$(printf '%s\n' "$OUT" | sed -n 's/^collections 1000 pages \([0-9]*\)$/\1/p')
[ -n "$pages" ] || fail "no page count: $OUT"
reqs=$(simlog 'select(.operationId=="RestorePointCollections_ListAll")' | wc -l)
expect_eq "ListAll requests = pages" "$pages" "$reqs"
# 143 pages of items, each after an empty page.
[ "$pages" -ge 286 ] || fail "only $pages pages: empty pages were not all fetched"
bad=$(simlog 'select(.auth!="ok")' | wc -l)
expect_eq "unauthorised requests" 0 "$bad"
skips=$(simlog 'select(.operationId=="RestorePointCollections_ListAll" and (.query|test("skipToken")))' | wc -l)
expect_eq "requests with a skip token" $((pages - 1)) "$skips"
pass
