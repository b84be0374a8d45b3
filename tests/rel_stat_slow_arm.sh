#!/bin/sh
# With ARM slow to answer (every answer 6 s late, op_timeout=3) and the
# cached tree older than ttl, a `stat` and an `ls -l` of a known collection
# each answer within op_timeout: a lookup of a name the cached (even
# expired) answers hold is answered from them, and the refresh runs in the
# background (getattr of anything known never waits on the
# network, and no system call waits longer than op_timeout).  Each
# path level is a separate FUSE request, so a synchronous refresh per level
# would add up to several op_timeouts.  A known point's file (every level a
# lookup, the last two answered from the collection's expanded GET) is
# statted within about a second.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=1,op_timeout=3,retries=2
ls -lR "$MNT" >/dev/null || fail "walk"
rp=$(ls "$MNT/eastus/rg-prod/rpc-vm-web-01" | grep -v -e '\.json$' -e '^id$' -e '^state$' \
	-e '^source$' -e '^tags$' -e '^origin$' | head -n 1)
[ -n "$rp" ] || fail "no point in rpc-vm-web-01"
fault '{"kind":"latency","latency_ms":6000}'
sleep 2 # everything cached is older than ttl now
# limits: op_timeout is 3 s
ok_within 1000 "stat of a known point file" stat "$MNT/eastus/rg-prod/rpc-vm-web-01/$rp/state"
ok_within 3500 "stat of a known collection" stat "$MNT/eastus/rg-prod/rpc-vm-web-01"
ok_within 3500 "ls -l of a known collection" ls -l "$MNT/eastus/rg-prod/rpc-vm-web-01"
pass
