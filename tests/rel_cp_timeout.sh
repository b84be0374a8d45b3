#!/bin/sh
# A copy whose answer never came must not be overtaken (copies into a
# collection go in order): the first point's PUT of a cp -r is held by
# armsim past op_timeout and lands later. The later points wait for it
# (or fail with ETIMEDOUT), never go first, and a rerun of cp -r copies
# every point: no permanent gap.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
mount_rpfs -o op_timeout=3,retries=1,busy_ttl=1,ttl=2
W=rpc-vm-web-01-weekly
S=$MNT/eastus/rg-prod/$W
T=$MNT/westus/rg-dev/$W
pts=$(ls "$S" | grep '^rp-' | tr '\n' ' ')
sim POST /_armsim/faults '{"match":{"operationId":"RestorePoints_Create"},"kind":"latency","latency_ms":7000,"count":1}' >/dev/null ||
	fail "fault rule"
if cp -r "$S" "$MNT/westus/rg-dev/" 2>"$WORKDIR/cp1.err"; then
	log "the first cp -r succeeded (the late point landed in time)"
else
	log "first cp -r: $(tr '\n' ' ' <"$WORKDIR/cp1.err")"
fi
sleep 6 # the held PUT lands
ok=
for try in 1 2 3; do
	if cp -r "$S" "$MNT/westus/rg-dev/" 2>"$WORKDIR/cp2.err"; then
		ok=1
		break
	fi
	log "rerun $try: $(tr '\n' ' ' <"$WORKDIR/cp2.err")"
	sleep 1
done
[ -n "$ok" ] || fail "cp -r never completed: $(cat "$WORKDIR/cp2.err")"
got=$(ls "$T" | grep '^rp-' | tr '\n' ' ')
expect_eq "points copied" "$pts" "$got"
for p in $pts; do
	expect_eq "source of $p" "$(cat "$S/$p/id")" "$(cat "$T/$p/source")"
done
# No copy was refused by ARM for its order.
n=$(sim GET /_armsim/log | jq -s '[.[] | select(.operationId == "RestorePoints_Create" and .status == 409)] | length')
expect_eq "copies ARM refused as out of order" 0 "$n"
pass
