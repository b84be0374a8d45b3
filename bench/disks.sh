#!/usr/bin/env bash
# bench/disks.sh RPFS ARMSIM [RUNS] - case 8 of bench/run: reading
# disks/NAME.vhd against armsim's blob endpoint with 30 ms of latency, next
# to the official Azure Storage SDK for JavaScript downloading the same SAS
# (bench/sdk-disk.js: downloadToFile, and downloadToBuffer with as many
# ranged GETs in flight as rpfs's disk_conns).  Prints a markdown section.
#
# Disks: "full", 1 GiB all allocated; "sparse", 4 GiB with 1 GiB allocated
# in four extents of 256 MiB.  Every rpfs run is cold: a fresh mount (its
# unmount ends the grant and drops the kernel's page cache of the file).
# The SDK gets its SAS from its own beginGetAccess, ended after each run.
# NODE_PATH must name a node_modules holding the pinned SDK (bench/run sets
# it; else bench/node_modules).
set -euo pipefail

RPFS=$1
ARMSIM=$2
RUNS=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
export NODE_PATH=${NODE_PATH:-$here/node_modules}
LAT=30
CONNS=8  # rpfs's disk_conns default, and the SDK's parallelism
CACHE=256 # rpfs's disk_cache default (MiB)
DAPI=2025-01-02
BENCH_NAME=disks
. "$here/lib.sh"
ms_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }
median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f", m }'
}
cell() { printf '| %s ' "$@"; printf '|\n'; }
verdict() { if awk "BEGIN { exit !($1) }"; then echo met; else echo "**missed**"; fi; }

python3 - "$TMP/seed.json" "$SUB" <<'EOF'
import json, sys
out, sub = sys.argv[1:]
G = 1 << 30
rg = "rg-bench-disk"
vm = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/vm-d" % (sub, rg)
json.dump({"subscription": sub, "locations": ["eastus"],
           "vms": [{"name": "vm-d", "resourceGroup": rg, "location": "eastus", "osType": "Linux",
                    "disks": [{"name": "full", "sizeGB": 1, "allocated": [[0, G]]},
                              {"name": "sparse", "lun": 0, "sizeGB": 4,
                               "allocated": [[k * G, 256 << 20] for k in range(4)]}]}],
           "collections": [{"name": "rpc-d", "resourceGroup": rg, "location": "eastus",
                            "source": {"id": vm}, "points": [{"name": "rp-1"}]}]},
          open(out, "w"))
EOF
"$ARMSIM" --listen 127.0.0.1:0 --port-file "$TMP/port" --accept-token "$TOKEN" --seed "$TMP/seed.json" \
	--latency-ms "$LAT" --blob-port-file "$TMP/blob.port" >"$TMP/armsim.log" 2>&1 &
APID=$!
for i in $(seq 300); do [ -s "$TMP/port" ] && [ -s "$TMP/blob.port" ] && break; sleep 0.01; done
[ -s "$TMP/blob.port" ] || die "armsim did not start"
URL=http://127.0.0.1:$(cat "$TMP/port")
DIR=$MNT/eastus/rg-bench-disk/rpc-d/rp-1/disks
RPFS_PID=

mount_rpfs() {
	"$RPFS" -o "endpoint=$URL,token_file=$TMP/token,subscription=$SUB,log_level=warning" "$MNT" ||
		die "rpfs did not mount"
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$(readlink -f "$RPFS")" ] || continue
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF "$MNT" && RPFS_PID=${p#/proc/}
	done
	ls -l "$DIR" >/dev/null
}
umount_rpfs() {
	fusermount3 -u "$MNT"
	local i
	for i in $(seq 200); do kill -0 "$RPFS_PID" 2>/dev/null || break; sleep 0.05; done
}
hwm_mib() { awk '/^VmHWM:/ { printf "%.0f", $2 / 1024 }' "/proc/$RPFS_PID/status"; }
# fetched NAME: bytes rpfs fetched for a disk (.rpfs/disks).
fetched() { awk -v n="/diskRestorePoints/$1_" 'index($1, n) { print $3 }' "$MNT/.rpfs/disks"; }

# drp NAME: the disk restore point id; sas_of ID: a SAS of the SDK's own grant.
drp() { jq -r .diskRestorePointId "$DIR/$1.json"; }
sas_of() {
	local loc i
	loc=$(curl -sS -D - -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' --data '{"access":"Read","durationInSeconds":3600}' \
		"$URL$1/beginGetAccess?api-version=$DAPI" | tr -d '\r' | awk 'tolower($1) == "location:" { print $2 }')
	for i in $(seq 100); do
		s=$(curl -sS -H "Authorization: Bearer $TOKEN" "$loc" | jq -r '.accessSAS // empty')
		[ -n "$s" ] && { printf '%s' "$s"; return; }
		sleep 0.05
	done
	die "no SAS for $1"
}
end_grant() {
	curl -sS -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "$URL$1/endGetAccess?api-version=$DAPI"
}

declare -A CAT CP SDKF SDKP BYTES HWM WARM ALLOC SIZE IDS
mount_rpfs
for d in full sparse; do
	id=$(drp "$d")
	ALLOC[$d]=$(curl -sS -G --data-urlencode "id=$id" "$URL/_armsim/disk" | jq .allocated)
	SIZE[$d]=$(stat -c %s "$DIR/$d.vhd")
	IDS[$d]=$id
done
umount_rpfs

for d in full sparse; do
	cats=() cps=() sf=() sp=() warm=()
	for r in $(seq "$RUNS"); do
		say "(8) $d: run $r of $RUNS"
		mount_rpfs
		t0=$(now_ns); cat "$DIR/$d.vhd" >/dev/null; cats+=("$(ms_since "$t0")")
		BYTES[$d]=$(fetched "$d")
		HWM[$d]=$(hwm_mib)
		t0=$(now_ns); cat "$DIR/$d.vhd" >/dev/null; warm+=("$(ms_since "$t0")")
		umount_rpfs
		mount_rpfs
		t0=$(now_ns); cp --sparse=always "$DIR/$d.vhd" "$TMP/copy"; cps+=("$(ms_since "$t0")")
		rm -f "$TMP/copy"
		umount_rpfs
		SAS_URL=$(sas_of "${IDS[$d]}") node "$here/sdk-disk.js" --mode file --out "$TMP/sdk" >"$TMP/sdk.json" ||
			die "the SDK download failed"
		sf+=("$(jq .ms "$TMP/sdk.json")")
		SAS_URL=$(sas_of "${IDS[$d]}") node "$here/sdk-disk.js" --mode parallel --parallel "$CONNS" \
			--out "$TMP/sdk" >"$TMP/sdk.json" || die "the SDK download failed"
		sp+=("$(jq .ms "$TMP/sdk.json")")
		rm -f "$TMP/sdk"
		end_grant "${IDS[$d]}"
	done
	CAT[$d]=$(median "${cats[@]}")
	CP[$d]=$(median "${cps[@]}")
	SDKF[$d]=$(median "${sf[@]}")
	SDKP[$d]=$(median "${sp[@]}")
	WARM[$d]=$(median "${warm[@]}")
done

# Cold random 4 KiB reads: a fresh block each, in allocated bytes, the
# file already open (its grant and page list got at open).
mount_rpfs
python3 - "$DIR/full.vhd" >"$TMP/rand" <<'EOF'
import os, random, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
rnd = random.Random(3)
ms = []
for blk in rnd.sample(range(8, 250), 15):
    off = blk * (4 << 20) + rnd.randrange(0, (4 << 20) - 4096) // 4096 * 4096
    t = time.monotonic()
    os.pread(fd, 4096, off)
    ms.append((time.monotonic() - t) * 1000)
ms.sort()
print("%.1f" % ms[len(ms) // 2])
EOF
umount_rpfs
RAND=$(cat "$TMP/rand")

gib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1073741824 }'; }
echo "## 8. Reading disks (disks/NAME.vhd) with ${LAT} ms latency"
echo
echo "armsim's blob endpoint with --latency-ms $LAT; \"full\": $(gib "${SIZE[full]}") GiB, all allocated; \"sparse\": $(gib "${SIZE[sparse]}") GiB, $(gib "${ALLOC[sparse]}") GiB allocated in four extents. rpfs with its defaults (disk_conns $CONNS, disk_cache $CACHE MiB, blocks of 2 MiB), each run a fresh mount. Peer: the Azure Storage SDK for JavaScript (@azure/storage-blob $(node -p 'require(process.env.NODE_PATH + "/@azure/storage-blob/package.json").version')) on the same blob: \`downloadToFile\` (one streamed GET) and \`downloadToBuffer\` with $CONNS ranged GETs of 4 MiB in flight, written to a file; the goal compares with the faster of the two. Medians of $RUNS runs."
echo
cell figure rpfs "SDK downloadToFile" "SDK $CONNS in flight" goal result
cell --- ---: ---: ---: --- ---
for d in full sparse; do
	best=$(awk -v a="${SDKF[$d]}" -v b="${SDKP[$d]}" 'BEGIN { print (a < b ? a : b) }')
	cell "\`cat\` $d" "${CAT[$d]} ms" "${SDKF[$d]} ms" "${SDKP[$d]} ms" "≤ $best ms" "$(verdict "${CAT[$d]} <= $best")"
	cell "\`cp --sparse=always\` $d" "${CP[$d]} ms" "${SDKF[$d]} ms" "${SDKP[$d]} ms" "≤ $best ms" "$(verdict "${CP[$d]} <= $best")"
done
echo
cell figure value goal result
cell --- ---: --- ---
for d in full sparse; do
	ratio=$(awk -v a="${BYTES[$d]}" -v b="${ALLOC[$d]}" 'BEGIN { printf "%.3f", a / b }')
	cell "bytes fetched / allocated, \`cat\` $d" "$ratio (${BYTES[$d]} / ${ALLOC[$d]})" "≤ 1.05" "$(verdict "$ratio <= 1.05")"
done
cell "cold random 4 KiB read (median of 15, open file)" "$RAND ms" "≤ 1.2 × $LAT ms" "$(verdict "$RAND <= 1.2 * $LAT")"
for d in full sparse; do
	gbs=$(awk -v b="${SIZE[$d]}" -v ms="${WARM[$d]}" 'BEGIN { printf "%.2f", b / ms / 1e6 }')
	cell "warm re-read, \`cat\` $d (page cache)" "${WARM[$d]} ms ($gbs GB/s)" "page-cache speed" ""
	cell "rpfs VmHWM after \`cat\` $d" "${HWM[$d]} MiB" "≤ $CACHE + 32 MiB" "$(verdict "${HWM[$d]} <= $CACHE + 32")"
done
echo
echo "Azure Backup's own file recovery (iSCSI) is documented at about 1 GB per hour; rpfs's \`cat\` of the full disk here runs at $(awk -v b="${SIZE[full]}" -v ms="${CAT[full]}" 'BEGIN { printf "%.0f", b / ms / 1e3 }') MB/s."
echo
