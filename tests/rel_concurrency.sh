#!/bin/sh
# Concurrency: 4 `ls -lR` loops, 2 loops reading every progress file, and
# a flush every second (with ttl=1 and busy_ttl=1, so answers keep
# expiring under the walkers) for REL_CONC_SECONDS (default 20): no error,
# every walk sees the whole tree, and no sanitizer report (lib.sh checks
# the daemon's log at exit).  tests/tsan.sh runs this test in a
# ThreadSanitizer build.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

SECS=${REL_CONC_SECONDS:-20}
start_armsim --demo
mount_rpfs -o ttl=1,busy_ttl=1,neg_ttl=1
ls -R "$MNT" | grep -v progress >"$WORKDIR/ref" || fail "first walk"
nref=$(wc -l <"$WORKDIR/ref")
P=$(cd "$MNT" && find . -name progress)
t_end=$(( $(date +%s) + SECS ))
pids=
for w in 1 2 3 4 5 6 7; do
	(
		n=0
		while [ "$(date +%s)" -lt "$t_end" ]; do
			case $w in
			[1-4])
				timeout 60 ls -lR "$MNT" >"$WORKDIR/ls.$w" || exit 1
				# the same names every time (sizes of progress files move)
				n_now=$(ls -R "$MNT" | grep -vc progress)
				[ "$n_now" = "$nref" ] || { echo "walk saw $n_now names, not $nref" >&2; exit 1; } ;;
			[5-6])
				for p in $P; do
					out=$(timeout 30 cat "$MNT/$p") || exit 1
					case $out in *"total "*) ;; *) echo "bad progress: $out" >&2; exit 1 ;; esac
				done ;;
			7) echo 1 >"$MNT/.rpfs/flush" || exit 1
				sleep 1 ;;
			esac
			n=$((n + 1))
		done
		echo "$n" >"$WORKDIR/rounds.$w"
	) 2>"$WORKDIR/w.$w.err" &
	pids="$pids $!"
done
failed=0
for p in $pids; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || fail "a worker failed: $(cat "$WORKDIR"/w.*.err | head -5)"
kill -0 "$RPFS_PID" || fail "the daemon died"
walks=$(cat "$WORKDIR"/rounds.[1-4] | awk '{ s += $1 } END { print s }')
reads=$(cat "$WORKDIR"/rounds.[5-6] | awk '{ s += $1 } END { print s }')
log "FIGURE concurrency: $SECS s, $walks ls -lR, $reads rounds of progress reads, $(sim GET /_armsim/stats | jq .total) ARM requests, no error"
umount_rpfs
pass
