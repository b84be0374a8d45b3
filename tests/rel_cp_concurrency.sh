#!/bin/sh
# Concurrency with copies: 8 parallel cp -r of different 10-point
# collections to another region, while 4 `ls -lR` loops walk the whole
# mount and 2 loops read every progress file of the copies (ttl=1, so
# answers keep expiring under them), bounded to 30 s: no error, no
# sanitizer report (lib.sh checks the daemon's log at exit), every
# point and collection created by exactly one PUT, and no wait that kept
# the FUSE reader from reading (src/fs_loop.c).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

rel_seed "$WORKDIR/seed.json" 8 10
start_armsim --seed "$WORKDIR/seed.json"
mount_rpfs -o ttl=1,busy_ttl=1,neg_ttl=1
ls -lR "$MNT" >/dev/null || fail "first walk"
clear_log
# slow the PUTs a little, so the copies overlap the walks
fault '{"match":{"method":"PUT"},"kind":"latency","latency_ms":50}'
t_end=$(( $(date +%s) + 30 ))
cps=
for i in 0 1 2 3 4 5 6 7; do
	timeout 30 cp -r "$MNT/eastus/rg-src/rpc-src-$i" "$MNT/westus2/rg-dst/" 2>"$WORKDIR/cp.$i.err" &
	cps="$cps $!"
done
pids=
for w in 1 2 3 4 5 6; do
	(
		n=0
		while [ "$(date +%s)" -lt "$t_end" ] && [ ! -e "$WORKDIR/done" ]; do
			case $w in
			[1-4]) timeout 30 ls -lR "$MNT" >"$WORKDIR/ls.$w" || exit 1 ;;
			*)
				for p in $(cd "$MNT" && find westus2/rg-dst -name progress); do
					out=$(timeout 30 cat "$MNT/$p") || exit 1
					case $out in *"total "*) ;; *) echo "bad progress $p: $out" >&2; exit 1 ;; esac
				done ;;
			esac
			n=$((n + 1))
		done
		echo "$n" >"$WORKDIR/rounds.$w"
	) 2>"$WORKDIR/w.$w.err" &
	pids="$pids $!"
done
failed=0
for p in $cps; do wait "$p" || failed=1; done
touch "$WORKDIR/done"
[ "$failed" = 0 ] || fail "a cp -r failed: $(cat "$WORKDIR"/cp.*.err | head -5)"
for p in $pids; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || fail "a walker failed: $(cat "$WORKDIR"/w.*.err | head -5)"
kill -0 "$RPFS_PID" || fail "the daemon died"
# mkdir and close wait for ARM and for the kernel's invalidations: each
# such wait gives the FUSE reader role away at once (blocking_begin), never
# through the loop's 250 ms safety net
n=$(grep -c 'held the reader' "$RPFS_LOG")
[ "$n" = 0 ] || fail "$n waits held the FUSE reader until the safety net moved it"
clear_faults
total=0
for i in 0 1 2 3 4 5 6 7; do
	rel_cp_ok "rpc-src-$i"
	total=$((total + REL_PUTS))
done
[ "$total" = 88 ] || fail "$total resources created, 88 expected"
walks=$(cat "$WORKDIR"/rounds.[1-4] | awk '{ s += $1 } END { print s }')
reads=$(cat "$WORKDIR"/rounds.[5-6] | awk '{ s += $1 } END { print s }')
log "FIGURE concurrent copies: 8 cp -r, $total resources each created once, $walks ls -lR and $reads progress rounds alongside, no error"
umount_rpfs
pass
