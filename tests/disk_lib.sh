# tests/disk_lib.sh - helpers of the disk_*.sh tests (after lib.sh and
# rel_lib.sh): a seed with small sparse disks, the paths of their .vhd
# files, and armsim's view of their grants and bytes.

MIB=1048576
DISK_RG=rg-disk
DISK_SEED=$WORKDIR/disk-seed.json

# disk_seed: write $DISK_SEED.  vm-a has a 1 GiB OS disk and a 2 GiB data
# disk with allocated extents at odd places, and a data disk that cannot
# be exported (DenyAll); vm-b a 1 GiB OS disk with armsim's default
# layout.  rpc-a-dr in westus is a copy of rpc-a whose disks are still
# being replicated.
disk_seed() {
	python3 - "$DISK_SEED" "$DEMO_SUB" "$DISK_RG" <<'EOF'
import json, sys
out, sub, rg = sys.argv[1], sys.argv[2], sys.argv[3]
M = 1 << 20
def vmid(n):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s" % (sub, rg, n)
def rpcid(n):
    return "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/restorePointCollections/%s" % (sub, rg, n)
seed = {
    "subscription": sub,
    "locations": ["eastus", "westus"],
    "resourceGroups": [{"name": rg, "location": "eastus"}],
    "vms": [
        {"name": "vm-a", "resourceGroup": rg, "location": "eastus", "osType": "Linux",
         "disks": [
             {"name": "vm-a-os", "sizeGB": 1,
              "allocated": [[0, M], [3 * M + 4096, 2 * M + 512], [100 * M, 8 * M], [700 * M, 512]]},
             {"name": "vm-a-data", "lun": 0, "sizeGB": 2,
              "allocated": [[0, 4 * M], [1024 * M - 12288, 24576], [1900 * M, 3 * M + 1536]]},
             {"name": "vm-a-deny", "lun": 1, "sizeGB": 1, "networkAccessPolicy": "DenyAll"},
         ]},
        {"name": "vm-b", "resourceGroup": rg, "location": "eastus", "osType": "Linux",
         "disks": [{"name": "vm-b-os", "sizeGB": 1}]},
    ],
    "collections": [
        {"name": "rpc-a", "resourceGroup": rg, "location": "eastus", "source": {"id": vmid("vm-a")},
         "points": [{"name": "rp-1"}]},
        {"name": "rpc-b", "resourceGroup": rg, "location": "eastus", "source": {"id": vmid("vm-b")},
         "points": [{"name": "rp-1"}]},
        {"name": "rpc-a-dr", "resourceGroup": rg, "location": "westus", "source": {"id": rpcid("rpc-a")},
         "points": [{"name": "rp-1", "sourceRestorePoint": rpcid("rpc-a") + "/restorePoints/rp-1",
                     "progress": [40, 40, 40]}]},
    ],
}
json.dump(seed, open(out, "w"))
EOF
}

# start_disk_armsim [ARGS...]: armsim on the disk seed (or ARGS).
start_disk_armsim() {
	[ -s "$DISK_SEED" ] || disk_seed || fail "cannot write the disk seed"
	start_armsim --seed "$DISK_SEED" --blob-port-file "$WORKDIR/blob.port" --copy-seconds 86400 "$@"
	wait_for 50 test -s "$WORKDIR/blob.port" || fail "armsim's blob endpoint did not start"
	BLOB_PORT=$(cat "$WORKDIR/blob.port")
}

# vhd COLLECTION DISK: the path of a disk's .vhd in the mount.
vhd() {
	printf '%s/eastus/%s/%s/rp-1/disks/%s.vhd' "$MNT" "$DISK_RG" "$1" "$2"
}

# drp_id COLLECTION DISK: the disk restore point id, from its NAME.json.
drp_id() {
	jq -r .diskRestorePointId "${MNT}/eastus/$DISK_RG/$1/rp-1/disks/$2.json"
}

# sim_disk ID: armsim's {size, allocated, sha256, ranges} of a disk.
sim_disk() {
	curl -sS -f -G --data-urlencode "id=$1" "$ARMSIM_URL/_armsim/disk"
}

# grants: armsim's active grants, one "ID N" line each.
grants() {
	sim GET /_armsim/grants | jq -r '.value[] | "\(.diskRestorePointId) \(.grants)"'
}

# nlog OPERATION-ID: how many requests of that operation armsim logged.
nlog() {
	sim GET /_armsim/log | jq -c "select(.operationId == \"$1\")" | wc -l
}

# rpfs_hwm_kib: the peak resident size of the rpfs process (VmHWM).
rpfs_hwm_kib() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$RPFS_PID/status"
}
