#!/bin/sh
# bench/armsim-throughput.sh - how fast armsim answers, so it is never the
# bottleneck of another benchmark:
#  1. collection GETs per second over keep-alive HTTP on loopback, demo
#     loaded (wrk if installed, else one curl process reusing a connection);
#  2. the time armsim takes to load a seed of 100,000 restore points.
# Usage: bench/armsim-throughput.sh [ARMSIM-BINARY]   (env: DURATION=5 CONNS=8)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ARMSIM=${1:-${ARMSIM:-$here/../contrib/armsim/armsim}}
DURATION=${DURATION:-5}
CONNS=${CONNS:-8}
SUB=8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20
tmp=$(mktemp -d "${TMPDIR:-/tmp}/armsim-bench.XXXXXX")
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT

start() {
	rm -f "$tmp/port"
	"$ARMSIM" --listen 127.0.0.1:0 --port-file "$tmp/port" --accept-token bench "$@" >"$tmp/armsim.err" 2>&1 &
	pid=$!
	i=0
	while [ ! -s "$tmp/port" ]; do
		sleep 0.01
		i=$((i + 1))
		[ $i -lt 3000 ] || { cat "$tmp/armsim.err"; exit 1; }
	done
	port=$(cat "$tmp/port")
}

stop() {
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	pid=
}

[ -x "$ARMSIM" ] || { echo "armsim not found at $ARMSIM (build it, or pass its path)" >&2; exit 1; }
echo "armsim throughput ($(nproc) cores)"
start --demo
url="http://127.0.0.1:$port/subscriptions/$SUB/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/rpc-vm-web-01?api-version=2025-04-01"
if command -v wrk >/dev/null; then
	rps=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" -H 'Authorization: Bearer bench' "$url" | awk '/Requests\/sec/ {print $2}')
	printf '  %-52s %10.0f req/s\n' "collection GET, keep-alive, wrk $CONNS connections" "$rps"
fi
n=5000
urls=
i=0
while [ $i -lt 1000 ]; do urls="$urls -o /dev/null $url"; i=$((i + 1)); done
t0=$(date +%s.%N)
for k in 1 2 3 4 5; do curl -s -H 'Authorization: Bearer bench' $urls; done
t1=$(date +%s.%N)
printf '  %-52s %10.0f req/s\n' "collection GET, keep-alive, one curl connection" "$(awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN{print n / (b - a)}')"
stop

python3 - "$tmp/seed.json" "$SUB" <<'PY'
import json, sys
sub = sys.argv[2]
vms, cols = [], []
for v in range(250):
    vm = f"/subscriptions/{sub}/resourceGroups/rg-{v % 10}/providers/Microsoft.Compute/virtualMachines/vm-{v:04d}"
    vms.append({"id": vm, "location": "eastus", "osType": "Linux",
                "disks": [{"name": f"vm-{v:04d}-os"}, {"name": f"vm-{v:04d}-d1", "lun": 0}]})
    for c in range(4):
        cols.append({"name": f"rpc-{v:04d}-{c}", "resourceGroup": f"rg-{v % 10}", "location": "eastus",
                     "source": {"id": vm},
                     "points": [{"name": f"rp-{p:03d}", "timeCreated": "2026-01-01T00:%02d:%02dZ" % (p // 60, p % 60)}
                                for p in range(100)]})
json.dump({"subscription": sub, "vms": vms, "collections": cols}, open(sys.argv[1], "w"))
PY
size=$(du -k "$tmp/seed.json" | cut -f1)
t0=$(date +%s.%N)
start --seed "$tmp/seed.json"
t1=$(date +%s.%N)
loaded=$(grep -o 'loaded .*' "$tmp/armsim.err")
printf '  %-52s %10.2f s\n' "seed of 100,000 points ($size KiB): start to listening" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')"
echo "  ($loaded)"
stop
