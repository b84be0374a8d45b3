#!/bin/sh
# Reading a large sparse disk keeps rpfs within disk_cache + 32 MiB: a
# 4 GiB disk with 512 MiB allocated in eight extents, read whole with
# disk_cache=16, grows rpfs's peak resident size (VmHWM) by at most
# 16 + 32 MiB over what it was once mounted, and gives armsim's bytes.
# (Scaled from the benchmark's 1 GiB allocated so that the sanitizer
# build runs it in seconds; ASan's quarantine is kept small, as it would
# otherwise hold freed memory on purpose.)
: "${ASAN_OPTIONS:=quarantine_size_mb=4:detect_leaks=1:abort_on_error=0}"
export ASAN_OPTIONS
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
. "$TESTS_SRCDIR/disk_lib.sh"
export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$WORKDIR/asan"

python3 - "$DISK_SEED" "$DEMO_SUB" "$DISK_RG" <<'EOF' || fail "cannot write the seed"
import json, sys
out, sub, rg = sys.argv[1:]
M = 1 << 20
vm = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/vm-m" % (sub, rg)
json.dump({"subscription": sub, "locations": ["eastus"],
           "vms": [{"name": "vm-m", "resourceGroup": rg, "location": "eastus", "osType": "Linux",
                    "disks": [{"name": "vm-m-os", "sizeGB": 4,
                               "allocated": [[k * 512 * M + 3 * M, 64 * M] for k in range(8)]}]}],
           "collections": [{"name": "rpc-m", "resourceGroup": rg, "location": "eastus",
                            "source": {"id": vm}, "points": [{"name": "rp-1"}]}]},
          open(out, "w"))
EOF
start_disk_armsim
mount_rpfs -o disk_cache=16
f=$(vhd rpc-m vm-m-os)
ls -l "$f" >/dev/null || fail "no vm-m-os.vhd"
base=$(rpfs_hwm_kib)
sum=$(timeout 600 cat "$f" | sha256sum | cut -d' ' -f1) || fail "cat of the 4 GiB disk failed"
expect_eq "sha256 of the 4 GiB disk" "$(sim_disk "$(drp_id rpc-m vm-m-os)" | jq -r .sha256)" "$sum"
peak=$(rpfs_hwm_kib)
grow=$(((peak - base) / 1024))
log "VmHWM $((base / 1024)) MiB once mounted, $((peak / 1024)) MiB after the read: +$grow MiB"
[ "$grow" -le $((16 + 32)) ] || fail "rpfs grew by $grow MiB reading a disk with disk_cache=16"
pass
