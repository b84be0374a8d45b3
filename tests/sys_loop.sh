#!/bin/sh
# The FUSE request loop (src/fs_loop.c).  One thread reads /dev/fuse and
# answers from the cache itself, polling busy_poll microseconds for the
# next request; an answer that waits on ARM hands reading to another
# thread.  So: (1) while four listings wait for slow collection GETs (3 s
# each), a cached file is read and a cached collection listed at once,
# and the four slow listings end together, not one after another;
# (2) idle, the daemon uses no CPU (the busy poll stops); (3) by default
# (cpu_poll=0) rpfs never takes a CPU latency request (/dev/cpu_dma_latency,
# machine-wide); with cpu_poll=1 it holds one while requests come and
# drops it when they stop; (4) -s
# with busy_poll=0 serves the same tree; (5) SIGTERM unmounts and exits 0.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
mount_rpfs
a=$MNT/eastus/rg-prod/rpc-vm-web-01
ls "$a" >/dev/null || fail "cannot list $a"
rp=$(ls "$a" | grep '^rp-' | head -n 1)
[ -n "$rp" ] || fail "no point in $a"
cat "$a/$rp/state" >/dev/null || fail "cannot read $a/$rp/state"

# (1) collection GETs take 3 s from now on; these four are not cached.
fault '{"kind":"latency","latency_ms":3000,"match":{"operationId":"RestorePointCollections_Get"}}'
t0=$(date +%s%N)
i=0
pids=
for c in westeurope/rg-dev/rpc-vm-dev-01 northeurope/rg-dev/rpc-vm-build-01 \
	southeastasia/rg-analytics/rpc-vm-etl-01 japaneast/rg-analytics/rpc-vm-report-01; do
	i=$((i + 1))
	(ls "$MNT/$c" >"$WORKDIR/slow$i.out" 2>&1; echo $? >"$WORKDIR/slow$i.rc") &
	pids="$pids $!"
done
sleep 0.5
ok_within 1000 "cat of a cached file while listings wait on ARM" cat "$a/$rp/state"
ok_within 1000 "ls of a cached collection while listings wait on ARM" ls -l "$a"
wait $pids
t1=$(date +%s%N)
for i in 1 2 3 4; do
	[ "$(cat "$WORKDIR/slow$i.rc")" = 0 ] || fail "slow listing $i failed: $(cat "$WORKDIR/slow$i.out")"
	grep -q '^rp-' "$WORKDIR/slow$i.out" || fail "slow listing $i shows no point"
done
ms=$(( (t1 - t0) / 1000000 ))
log "four listings behind 3 s GETs ended after $ms ms"
[ "$ms" -lt 7000 ] || fail "four listings behind 3 s GETs took $ms ms: they waited one after another"
clear_faults

# (2) idle: no CPU beyond a few ticks in 3 s (a busy poll that never
# stopped would take all 300).
ls -lR "$MNT" >/dev/null || fail "walk failed"
ls -R "$MNT" >"$WORKDIR/w1" || fail "walk failed"
sleep 1.5
cpu() { awk '{print $14 + $15}' "/proc/$RPFS_PID/stat"; }
c0=$(cpu)
sleep 3
c1=$(cpu)
log "idle CPU over 3 s: $((c1 - c0)) ticks"
[ $((c1 - c0)) -le 30 ] || fail "idle rpfs used $((c1 - c0)) ticks of CPU in 3 s"

# (3) cpu_poll: sample rpfs's open files while cat keeps sending OPENs.
# Counts the samples that show /dev/cpu_dma_latency open.
qos_samples() {
	rm -f "$WORKDIR/stop"
	# Stopped by a file, not a signal: no cat may still hold a file of the
	# mount open when the test unmounts it.
	(while [ ! -e "$WORKDIR/stop" ]; do cat "$a/$rp/state" "$a/$rp/id" >/dev/null || exit 1; done) &
	loop=$!
	n=0
	for i in $(seq 30); do
		ls -l "/proc/$RPFS_PID/fd" 2>/dev/null | grep -q cpu_dma_latency && n=$((n + 1))
		sleep 0.05
	done
	touch "$WORKDIR/stop"
	wait "$loop" 2>/dev/null
	echo "$n"
}
holds_qos() { ls -l "/proc/$RPFS_PID/fd" 2>/dev/null | grep -q cpu_dma_latency; }
if [ "$(id -u)" = 0 ] && [ -c /dev/cpu_dma_latency ]; then
	n=$(qos_samples)
	[ "$n" = 0 ] || fail "default (cpu_poll=0): a CPU latency request was held in $n of 30 samples"
	umount_rpfs
	mount_rpfs -o cpu_poll=1
	n=$(qos_samples)
	log "cpu_poll=1: CPU latency request held in $n of 30 samples while reading"
	[ "$n" -ge 20 ] || fail "cpu_poll=1: the CPU latency request was held in only $n of 30 samples during reads"
	sleep 0.5
	holds_qos && fail "cpu_poll=1: the CPU latency request is still held 0.5 s after the last request"
else
	log "not root: the CPU latency request is not available, cpu_poll not checked"
fi

# (4) one thread, no busy poll: the same tree.
umount_rpfs
mount_rpfs -s -o busy_poll=0
ls -lR "$MNT" >/dev/null || fail "walk with -s -o busy_poll=0 failed"
ls -R "$MNT" >"$WORKDIR/w2" || fail "walk with -s -o busy_poll=0 failed"
cmp -s "$WORKDIR/w1" "$WORKDIR/w2" || fail "-s -o busy_poll=0 shows another tree: $(diff "$WORKDIR/w1" "$WORKDIR/w2" | head -5)"
[ "$(wc -l <"$WORKDIR/w1")" -gt 100 ] || fail "the walk shows too little: $(wc -l <"$WORKDIR/w1") lines"

# (5) SIGTERM: unmounted, exit status 0.
kill -TERM "$RPFS_PID"
rc=0
wait "$RPFS_PID" || rc=$?
RPFS_PID=
[ "$rc" = 0 ] || fail "rpfs exited with $rc after SIGTERM"
mountpoint -q "$MNT" && fail "still mounted after SIGTERM"
pass
