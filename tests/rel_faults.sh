#!/bin/sh
# Fault matrix on a mounted rpfs.  At 30% of requests (armsim faults with
# probability 0.3 and a seed) for each of 503, 500, connection reset,
# truncated body, malformed JSON, 429 with Retry-After and added latency:
# a full `ls -lR` and a `cat` of every view file complete, with the same
# content as a fault-free walk.  At 100%: each system call fails within
# op_timeout with arm_errno's errno, the daemon stays up, and everything
# works again once the fault is cleared, without a remount.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

KINDS='s503 s500 reset truncate malformed throttle latency'
# rule KIND PROBABILITY SEED: the armsim fault rule of a matrix row.
rule() {
	local p=$2 s=$3
	case $1 in
	s503) echo "{\"kind\":\"status\",\"status\":503,\"retry_after\":0,\"probability\":$p,\"seed\":$s}" ;;
	s500) echo "{\"kind\":\"status\",\"status\":500,\"probability\":$p,\"seed\":$s}" ;;
	throttle) echo "{\"kind\":\"throttle\",\"retry_after\":1,\"probability\":$p,\"seed\":$s}" ;;
	latency) echo "{\"kind\":\"latency\",\"latency_ms\":$4,\"probability\":$p,\"seed\":$s}" ;;
	*) echo "{\"kind\":\"$1\",\"probability\":$p,\"seed\":$s}" ;;
	esac
}

start_armsim --demo

# --- 30%: the walk completes, with the right content ----------------------
# retries=8: a request fails for good with probability 0.3^9 (2e-5).
mount_rpfs -o retries=8,op_timeout=60
rel_walk "$MNT" "$WORKDIR/ref" || fail "fault-free walk: $(head -3 "$WORKDIR/ref.err")"
nfiles=$(wc -l <"$WORKDIR/ref.files")
[ "$nfiles" -gt 100 ] || fail "the reference walk saw only $nfiles files"
survived=0
seed=1
for k in $KINDS; do
	seed=$((seed + 1))
	clear_log
	r0=$(rel_stat retries)
	fault "$(rule "$k" 0.3 "$seed" 150)"
	rel_flush
	t0=$(date +%s)
	rel_walk "$MNT" "$WORKDIR/walk.$k" ||
		fail "$k at 30%: the walk failed: $(head -3 "$WORKDIR/walk.$k.err")"
	clear_faults
	diff "$WORKDIR/ref" "$WORKDIR/walk.$k" >"$WORKDIR/diff.$k" ||
		fail "$k at 30%: the walk differs from the fault-free one: $(head -20 "$WORKDIR/diff.$k")"
	nreq=$(sim GET /_armsim/stats | jq .total)
	r=$(( $(rel_stat retries) - r0 ))
	if [ "$k" = latency ]; then
		# latency needs no retry: count the slowed requests instead (about 30%)
		n=$(simlog 'select(.status == 200)' | wc -l)
		hit=$(( n * 3 / 10 ))
	else
		hit=$r
		[ "$r" -gt 0 ] || fail "$k at 30%: no retry in $nreq requests (was the fault applied?)"
	fi
	survived=$((survived + hit))
	log "$k at 30%: walk ok in $(( $(date +%s) - t0 )) s, $nreq requests, $r retries"
done
log "FIGURE faults survived at 30%: $survived (retries, plus slowed requests for latency) over $(echo $KINDS | wc -w) kinds"
umount_rpfs

# --- 100%: fail in time with the right errno, then recover ----------------
mount_rpfs -o op_timeout=3,retries=2
rel_walk "$MNT" "$WORKDIR/ref2" || fail "fault-free walk 2"
P=$(grep -m1 '/progress$' "$WORKDIR/ref2.files")
[ -n "$P" ] || fail "no progress file in the demo"
D=eastus/rg-prod
for k in $KINDS; do
	case $k in
	throttle) want=EAGAIN ;;
	latency) want=ETIMEDOUT ;;
	*) want=EIO ;;
	esac
	fault "$(rule "$k" 1 1 6000)"
	rel_flush
	# op_timeout 3 s, plus what the kernel and a loaded machine add
	timed_errno "$want" 4500 ls "$MNT/$D"
	timed_errno "$want" 4500 cat "$MNT/$P"
	kill -0 "$RPFS_PID" 2>/dev/null || fail "$k at 100%: the daemon died"
	mountpoint -q "$MNT" || fail "$k at 100%: not mounted any more"
	clear_faults
	rel_walk "$MNT" "$WORKDIR/after.$k" || fail "$k: no recovery after the fault was cleared"
	diff "$WORKDIR/ref2" "$WORKDIR/after.$k" >/dev/null || fail "$k: the tree differs after recovery"
	log "$k at 100%: $want within op_timeout; recovered"
done
grep -q 'ServerBusy\|InternalServerError' "$MNT/.rpfs/errors" || fail ".rpfs/errors shows no failure"
umount_rpfs

# --- start-up at 100%: a clear message, a non-zero exit, nothing mounted ----
mkdir -p "$WORKDIR/m2"
for k in $KINDS; do
	fault "$(rule "$k" 1 1 6000)"
	elapsed_ms "$RPFS" -f -o "endpoint=$ARMSIM_URL,token_file=$WORKDIR/token,subscription=$DEMO_SUB" \
		-o op_timeout=3,retries=2 "$WORKDIR/m2"
	clear_faults
	if mountpoint -q "$WORKDIR/m2"; then
		fusermount3 -u "$WORKDIR/m2"
		fail "$k at 100%: rpfs mounted"
	fi
	[ "$REL_RC" -ne 0 ] || fail "$k at 100%: rpfs exited 0"
	[ "$REL_MS" -le 4500 ] || fail "$k at 100%: start-up took $REL_MS ms (op_timeout 3 s)"
	case $REL_OUT in *"cannot reach ARM"*) ;; *) fail "$k at 100%: start-up message: $REL_OUT" ;; esac
done
log "start-up under each fault at 100%: refused within op_timeout, nothing mounted"
pass
