#!/usr/bin/env bash
# bench/cache-cap.sh RPFS ARMSIM [CAP-MIB] - case 9 of bench/run: the
# resident memory of rpfs walking 100,000 restore points (case 4's seed:
# 1,000 collections of 100 points) without a cap and with cache_max=CAP-MIB
# (default 64).  Each run: a fresh armsim and mount, a cold `ls -lR`, 3 s of
# rest (freed pages go back to the system a second after the requests
# stop), then VmRSS and VmHWM from /proc/PID/status and cache_bytes and
# cache_evictions from .rpfs/stats.  Prints a markdown section.
set -euo pipefail

RPFS=$1
ARMSIM=$2
CAP=${3:-64}
NC=1000 NP=100
here=$(cd "$(dirname "$0")" && pwd)
OPTS="read_rate=10000,write_rate=10000,log_level=warning"
BENCH_NAME=cap
. "$here/lib.sh"
cell() { printf '| %s ' "$@"; printf '|\n'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**missed**"; fi; }

start_armsim() {
	rm -f "$TMP/port"
	"$ARMSIM" --listen 127.0.0.1:0 --port-file "$TMP/port" --accept-token "$TOKEN" \
		--seed "$TMP/seed.json" >"$TMP/armsim.log" 2>&1 &
	APID=$!
	local i
	for i in $(seq 3000); do
		[ -s "$TMP/port" ] && break
		kill -0 "$APID" 2>/dev/null || { cat "$TMP/armsim.log" >&2; die "armsim did not start"; }
		sleep 0.01
	done
	[ -s "$TMP/port" ] || die "armsim did not start"
	URL=http://127.0.0.1:$(cat "$TMP/port")
}

stop_armsim() {
	kill "$APID" 2>/dev/null || true
	wait "$APID" 2>/dev/null || true
	APID=
}

# the rpfs process serving $MNT
rpfs_pid() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$(readlink -f "$RPFS")" ] || continue
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF "$MNT" && { echo "${p#/proc/}"; return; }
	done
}
kib() { awk -v f="$1:" '$1 == f { print $2 }' "/proc/$PID/status"; }
stat_of() { awk -v k="$1" '$1 == k { print $2 }' "$MNT/.rpfs/stats"; }

# run CACHE-MAX: one cold walk; prints a table row.
run() {
	local t0 wms rss0 rss1 hwm bytes ev req i label
	start_armsim
	"$RPFS" -o "endpoint=$URL,token_file=$TMP/token,subscription=$SUB,$OPTS,cache_max=$1" "$MNT" \
		2>>"$TMP/rpfs.err" || { cat "$TMP/rpfs.err" >&2; die "rpfs did not mount"; }
	PID=$(rpfs_pid)
	[ -n "$PID" ] || die "cannot find the rpfs process"
	rss0=$(kib VmRSS)
	t0=$(now_ns)
	ls -lR "$MNT" >"$TMP/walk.ls" || die "ls -lR failed"
	wms=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
	sleep 3
	rss1=$(kib VmRSS) hwm=$(kib VmHWM)
	bytes=$(stat_of cache_bytes) ev=$(stat_of cache_evictions) req=$(stat_of requests)
	fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"
	for i in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
	stop_armsim
	[ "$(grep -c ' rp-[0-9]*$' "$TMP/walk.ls")" = $((NC * NP)) ] || die "the walk did not show every point"
	if [ "$1" = 0 ]; then label="no cap (cache_max=0)"; else label="cache_max=$1"; fi
	cell "$label" "$rss0" "$rss1" "$hwm" "$((bytes / 1024))" "$ev" "$req" "$wms" \
		"$([ "$1" = 0 ] && echo "" || echo "cache_bytes ≤ $1 MiB + 2 MiB")" \
		"$([ "$1" = 0 ] && echo "" || verdict "$bytes <= ($1 + 2) * 1048576")"
}

python3 "$here/seed.py" "$NC" "$NP" "$TMP/seed.json"
say "(9) memory with and without cache_max (2 walks of $((NC * NP)) points)"
rows=("$(run 0)" "$(run "$CAP")")
echo "## 9. Memory with cache_max"
echo
echo "A cold \`ls -lR\` of $((NC * NP)) points ($NC collections × $NP, case 4's seed), once without a cap and once with \`cache_max=$CAP\`; VmRSS after the mount and 3 s after the walk, the peak (VmHWM), and .rpfs/stats after the walk (cache_bytes: the cache's estimate of what it holds). The slack of the goal: the list of collections (about 1 KiB each, never evicted) and the collection just stored."
echo
cell case "after mount (KiB)" "VmRSS after walk (KiB)" "VmHWM (KiB)" "cache_bytes (KiB)" evictions "ARM requests" "walk (s)" goal result
cell --- ---: ---: ---: ---: ---: ---: ---: --- ---
printf '%s\n' "${rows[@]}"
echo
