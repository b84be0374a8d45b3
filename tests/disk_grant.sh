#!/bin/sh
# The read grant of a disk restore point: sixteen concurrent first opens
# send one beginGetAccess; the grant is renewed while the file is open
# (short sas_duration) and ended disk_idle seconds after the last close;
# a SAS revoked behind rpfs's back is renewed without the reader noticing;
# unmounting and SIGTERM end every grant.  Sixteen concurrent readers of one disk,
# and of several disks, read the right bytes.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
. "$TESTS_SRCDIR/disk_lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"

start_disk_armsim
mount_rpfs -o disk_idle=600,sas_duration=8
os=$(vhd rpc-a vm-a-os)
data=$(vhd rpc-a vm-a-data)
bos=$(vhd rpc-b vm-b-os)
osid=$(drp_id rpc-a vm-a-os)

# Sixteen first opens at once: one grant.
clear_log
pids=
for i in $(seq 16); do
	(head -c 4096 "$os" >"$WORKDIR/head.$i" || echo "reader $i failed" >>"$WORKDIR/errs") &
	pids="$pids $!"
done
wait $pids # not armsim and rpfs, also children of this shell
[ -s "$WORKDIR/errs" ] && fail "concurrent first opens: $(cat "$WORKDIR/errs")"
expect_eq "beginGetAccess for 16 concurrent first opens" 1 "$(nlog DiskRestorePoint_GrantAccess)"
expect_eq "Get Page Ranges passes for 16 first opens" 1 \
	"$(sim GET /_armsim/log | jq -c 'select(.operationId == "Blob_GetPageRanges")' | wc -l)"
expect_eq "armsim's grants" "$osid 1" "$(grants)"

# Renewed while open: sas_duration=8, held open for 12 s.
exec 3<"$os"
renewed() { [ "$(sim GET /_armsim/grants | jq '.value[0].grants // 0')" -ge 2 ]; }
wait_for 150 renewed ||
	fail "the grant was not renewed while the disk was open: $(grants)"
sleep 5 # past the first grant's expiry
dd if="$os" of=/dev/null bs=64k skip=$((100 * 16)) count=16 2>/dev/null ||
	fail "read after the renewal failed"
exec 3<&-

# A SAS revoked out of band: the next read renews the grant by itself.
exec 3<"$data"
head -c 1000 "$data" >/dev/null || fail "cannot read vm-a-data.vhd"
sim POST /_armsim/grants/revoke '{}' >/dev/null || fail "cannot revoke the grants"
[ -z "$(grants)" ] || fail "armsim still shows grants after the revocation"
clear_log
dd if="$data" of=/dev/null bs=64k skip=$((1900 * 16)) count=32 2>/dev/null ||
	fail "a read after the SAS was revoked failed"
[ "$(nlog DiskRestorePoint_GrantAccess)" -ge 1 ] || fail "no new grant after the revocation"
[ -n "$(grants)" ] || fail "no grant after the renewal"
sim GET /_armsim/log | jq -e -s 'map(select(.operationId == "Blob_Get" and .status == 403)) | length >= 1' >/dev/null ||
	fail "the blob never refused the revoked SAS (was it used?)"
exec 3<&-

# Ended disk_idle seconds after the last close.
umount_rpfs
mount_rpfs -o disk_idle=2
clear_log
head -c 1000 "$os" >/dev/null || fail "cannot read vm-a-os.vhd"
[ -n "$(grants)" ] || fail "no grant while vm-a-os.vhd is read"
no_grant() { [ -z "$(grants)" ]; }
wait_for 100 no_grant || fail "the grant outlived disk_idle: $(grants)"
expect_eq "endGetAccess after disk_idle" 1 "$(nlog DiskRestorePoint_RevokeAccess)"
grep -q "^$osid - " "$MNT/.rpfs/disks" || fail ".rpfs/disks still shows a grant: $(cat "$MNT/.rpfs/disks")"

# Sixteen readers of one disk, then of several disks, at different places.
umount_rpfs
mount_rpfs -o disk_idle=600
for k in os data bos; do
	f=$(eval echo "\$$k")
	cp --sparse=always "$f" "$WORKDIR/$k.img" || fail "cp of $f failed"
done
umount_rpfs
mount_rpfs -o disk_idle=600
python3 - "$WORKDIR" "$data" "$os" "$bos" <<'EOF' || fail "concurrent readers read wrong bytes"
import hashlib, os, sys, threading
wd, data, osd, bos = sys.argv[1:]
local = {data: wd + "/data.img", osd: wd + "/os.img", bos: wd + "/bos.img"}
M = 1 << 20
jobs = [(data, off) for off in (0, 3 * M, 1024 * M - 4 * M, 1900 * M, 50 * M, 1897 * M, 1 * M, 2 * M,
                                1023 * M, 1901 * M, 5 * M, 1902 * M, 0, 1903 * M, 4 * M - 7, 1022 * M)]
jobs += [(p, off) for p in (osd, bos) for off in (0, 3 * M, 100 * M, 104 * M, 700 * M - 1000, 2 * M, 101 * M, 1023 * M)]
errs = []
def reader(path, off):
    try:
        fd = os.open(path, os.O_RDONLY)
        got = b""
        while len(got) < 6 * M:
            b = os.pread(fd, 128 * 1024 + 3, off + len(got))
            if not b:
                break
            got += b
        os.close(fd)
        ref = os.open(local[path], os.O_RDONLY)
        want = os.pread(ref, len(got), off)
        os.close(ref)
        if got != want:
            errs.append("%s at %d" % (path, off))
    except OSError as e:
        errs.append("%s at %d: %s" % (path, off, e))
# one disk, then several
for batch in (jobs[:16], jobs[16:]):
    ts = [threading.Thread(target=reader, args=j) for j in batch]
    for t in ts: t.start()
    for t in ts: t.join()
if errs:
    sys.exit("; ".join(errs))
EOF
expect_eq "sha256 of vm-b-os" "$(sim_disk "$(drp_id rpc-b vm-b-os)" | jq -r .sha256)" \
	"$(sha256sum <"$WORKDIR/bos.img" | cut -d' ' -f1)"

# Unmounting ends every grant.
[ -n "$(grants)" ] || fail "no grant before the unmount"
umount_rpfs
expect_eq "grants after the unmount" "" "$(grants)"

# So does SIGTERM.
mount_rpfs -o disk_idle=600
head -c 1000 "$os" >/dev/null || fail "cannot read vm-a-os.vhd"
[ -n "$(grants)" ] || fail "no grant before SIGTERM"
kill -TERM "$RPFS_PID"
gone() { ! kill -0 "$RPFS_PID" 2>/dev/null; }
wait_for 150 gone || fail "rpfs did not exit after SIGTERM"
RPFS_PID=
expect_eq "grants after SIGTERM" "" "$(grants)"
pass
