#!/bin/sh
# Failures around disks/NAME.vhd.  Blob faults (connection reset, 503,
# truncated body, added latency) on 30 % of the reads leave the bytes
# identical; on every read, a read fails with EIO (and works again once
# the fault is gone).  Refusals before any byte: a copy still replicating
# is EBUSY, a disk that cannot be exported EACCES, both with ARM's message
# in .rpfs/errors; disk_read=0 is EACCES; writing a disk is EACCES (EROFS
# with ro).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
. "$TESTS_SRCDIR/disk_lib.sh"

start_disk_armsim
data_rel=eastus/$DISK_RG/rpc-a/rp-1/disks/vm-a-data.vhd
mount_rpfs -o disk_idle=600
want=$(sim_disk "$(drp_id rpc-a vm-a-data)" | jq -r .sha256)
[ -n "$want" ] || fail "armsim does not describe vm-a-data"

# rule KIND SEED: a fault on 30 % of the blob's ranged reads.
rule() {
	case $1 in
	s503) echo "{\"match\":{\"operationId\":\"Blob_Get\"},\"kind\":\"status\",\"status\":503,\"probability\":0.3,\"seed\":$2}" ;;
	latency) echo "{\"match\":{\"operationId\":\"Blob_Get\"},\"kind\":\"latency\",\"latency_ms\":200,\"probability\":0.3,\"seed\":$2}" ;;
	*) echo "{\"match\":{\"operationId\":\"Blob_Get\"},\"kind\":\"$1\",\"probability\":0.3,\"seed\":$2}" ;;
	esac
}
seed=1
for k in reset s503 truncate latency; do
	seed=$((seed + 1))
	umount_rpfs # a cold kernel page cache and block cache
	mount_rpfs -o retries=8,op_timeout=60,disk_conns=4
	clear_log
	fault "$(rule "$k" "$seed")"
	rm -f "$WORKDIR/copy"
	cp --sparse=always "$MNT/$data_rel" "$WORKDIR/copy" || fail "$k at 30%: cp failed"
	clear_faults
	expect_eq "sha256 with $k at 30%" "$want" "$(sha256sum <"$WORKDIR/copy" | cut -d' ' -f1)"
	n=$(sim GET /_armsim/log | jq -c 'select(.operationId == "Blob_Get")' | wc -l)
	[ "$n" -gt 3 ] || fail "$k at 30%: only $n ranged reads"
	log "$k at 30%: identical bytes over $n ranged reads"
done

# Every read fails: EIO, and the next read after the fault works.
umount_rpfs
mount_rpfs -o retries=2,op_timeout=10
head -c 1 "$MNT/$data_rel" >/dev/null || fail "cannot open vm-a-data.vhd"
fault '{"match":{"operationId":"Blob_Get"},"kind":"reset","probability":1}'
expect_errno EIO dd if="$MNT/$data_rel" of=/dev/null bs=64k skip=$((1900 * 16)) count=1
clear_faults
fault '{"match":{"operationId":"Blob_Get"},"kind":"status","status":503,"probability":1}'
expect_errno EIO dd if="$MNT/$data_rel" of=/dev/null bs=64k skip=$((1900 * 16)) count=1
clear_faults
dd if="$MNT/$data_rel" of=/dev/null bs=64k skip=$((1900 * 16)) count=1 2>/dev/null ||
	fail "the read still fails once the fault is gone"
grep -q 'Blob_Get' "$MNT/.rpfs/errors" || fail ".rpfs/errors does not show the failed reads"

# Refusals before any byte.
copy=$MNT/westus/$DISK_RG/rpc-a-dr/rp-1/disks/vm-a-os.vhd
clear_log
expect_errno EBUSY head -c 1 "$copy"
expect_eq "blob requests for a refused open" 0 \
	"$(sim GET /_armsim/log | jq -c 'select(.operationId | startswith("Blob_"))' | wc -l)"
grep 'DiskRestorePoint_GrantAccess' "$MNT/.rpfs/errors" | grep -qi 'replicat\|copied\|copy' ||
	fail "ARM's message about the replication is not in .rpfs/errors: $(tail -3 "$MNT/.rpfs/errors")"
expect_errno EACCES head -c 1 "$MNT/eastus/$DISK_RG/rpc-a/rp-1/disks/vm-a-deny.vhd"
grep 'DiskRestorePoint_GrantAccess' "$MNT/.rpfs/errors" | grep -q 'vm-a-deny' ||
	fail "the DenyAll refusal is not in .rpfs/errors: $(tail -3 "$MNT/.rpfs/errors")"

# Writing is refused.
expect_errno EACCES sh -c "echo x >>'$MNT/$data_rel'"
umount_rpfs
mount_rpfs -o ro
expect_errno EROFS sh -c "echo x >>'$MNT/$data_rel'"
umount_rpfs

# disk_read=0: EACCES, and no request.
mount_rpfs -o disk_read=0
clear_log
expect_errno EACCES head -c 1 "$MNT/$data_rel"
expect_eq "beginGetAccess with disk_read=0" 0 "$(nlog DiskRestorePoint_GrantAccess)"
grep -q 'disk_read' "$MNT/.rpfs/errors" || fail ".rpfs/errors does not name disk_read"
pass
