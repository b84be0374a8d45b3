#!/bin/sh
# contrib/rpfs-wait: returns 0 once a replicating demo copy reaches 100 %
# as armsim's clock advances, 1 for the demo's failed copy, 2 when there is
# no copy under the path, 3 when -t runs out before a copy ends.
. "$TESTS_SRCDIR/lib.sh"
start_armsim --demo
mount_rpfs -o busy_ttl=1
wait=$TESTS_SRCDIR/../contrib/rpfs-wait

running=
failed=
for f in $(find "$MNT" -name progress); do
	case $(tail -n 1 "$f") in
	"total 100 Succeeded") ;;
	*" Failed") failed=$(dirname "$f") ;;
	*) running=$(dirname "$f") ;;
	esac
done
[ -n "$running" ] || fail "the demo has no copy in progress"
[ -n "$failed" ] || fail "the demo has no failed copy"

# -t running out while the copy still runs (armsim's clock not advanced
# yet): 3, not 1 as for a failed copy.
out=$(timeout 30 bash "$wait" -i 0.5 -t 1 "$running" 2>&1)
rc=$?
[ $rc -eq 3 ] || fail "rpfs-wait -t 1 on a running copy returned $rc: $out"
echo "$out" | grep -q "timed out" || fail "rpfs-wait -t did not say it timed out: $out"

( for i in $(seq 20); do sleep 0.5; sim_advance 30 >/dev/null 2>&1 || true; done ) &
_lib_pids="$_lib_pids $!"
out=$(timeout 60 bash "$wait" -i 0.5 "$running" 2>&1)
rc=$?
[ $rc -eq 0 ] || fail "rpfs-wait on a running copy returned $rc: $out"
expect_eq "progress after rpfs-wait" "total 100 Succeeded" "$(tail -n 1 "$running/progress")"

out=$(timeout 30 bash "$wait" -i 0.5 "$failed" 2>&1)
rc=$?
[ $rc -eq 1 ] || fail "rpfs-wait on a failed copy returned $rc: $out"
echo "$out" | grep -q "failed: $failed" || fail "rpfs-wait did not name the failed copy: $out"

timeout 30 bash "$wait" -i 0.5 "$MNT/eastus/rg-prod/rpc-vm-web-01" >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "rpfs-wait without copies returned $rc"

out=$(bash "$wait" -h) || fail "rpfs-wait -h failed"
echo "$out" | grep -q "3 timed out" || fail "rpfs-wait -h does not document exit status 3: $out"
pass
