#!/bin/sh
# disks/NAME.vhd: listed beside NAME.json with diskSizeGB x 2^30 + 512
# bytes and no request for stat; cold reads at odd offsets and sizes give
# the blob's bytes; a whole `cat` gives armsim's sha256; holes read as
# zeros and cost no request (every ranged GET lies inside an allocated
# range, bytes fetched <= 1.05 x allocated); SEEK_DATA/SEEK_HOLE report the
# page list; `cp --sparse=always` makes a sparse copy; a small disk_cache
# (evictions) gives the same bytes; .rpfs/disks shows the disk, never a SAS.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
. "$TESTS_SRCDIR/disk_lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"

start_disk_armsim
mount_rpfs -o disk_idle=600
d=$MNT/eastus/$DISK_RG/rpc-a/rp-1/disks
os=$(vhd rpc-a vm-a-os)
data=$(vhd rpc-a vm-a-data)

expect_eq "disks/ listing" "vm-a-data.json vm-a-data.vhd vm-a-deny.json vm-a-deny.vhd vm-a-os.json vm-a-os.vhd" \
	"$(ls "$d" | tr '\n' ' ' | sed 's/ $//')"
clear_log
expect_eq "size of vm-a-os.vhd" $((1 << 30 | 512)) "$(stat -c %s "$os")"
expect_eq "size of vm-a-data.vhd" $(((2 << 30) + 512)) "$(stat -c %s "$data")"
expect_eq "mode of vm-a-os.vhd" "-r--r-----" "$(stat -c %A "$os")"
ls -l "$d" >/dev/null
expect_eq "requests for stat and ls -l of the disks" 0 "$(sim GET /_armsim/log | wc -l)"

osid=$(drp_id rpc-a vm-a-os)
dataid=$(drp_id rpc-a vm-a-data)
sim_disk "$osid" >"$WORKDIR/os.ref" || fail "armsim does not describe $osid"
sim_disk "$dataid" >"$WORKDIR/data.ref" || fail "armsim does not describe $dataid"

# Cold reads at odd offsets and sizes (holes, extents, their edges, the
# footer), kept to compare with the whole disk read afterwards.
python3 - "$data" "$WORKDIR/data.ref" "$WORKDIR/data.reads" <<'EOF' || fail "random reads of vm-a-data.vhd failed"
import hashlib, json, os, random, sys
path, ref, out = sys.argv[1:]
r = json.load(open(ref))
size = r["size"]
rnd = random.Random(7)
offs = [0, 1, 511, 4095, 4 * 2**20 - 3, size - 512, size - 1, size - 700]
for s, e in r["ranges"]:
    offs += [s, max(0, s - 1), e, e - 100, (s + e) // 2]
offs += [rnd.randrange(size) for _ in range(60)]
fd = os.open(path, os.O_RDONLY)
with open(out, "w") as f:
    for o in offs:
        n = rnd.choice([1, 17, 512, 4096, 65537, 300000, 1 << 20 | 3])
        b = os.pread(fd, n, o)
        want = max(0, min(n, size - o))
        if len(b) != want:
            sys.exit("pread(%d, %d) gave %d bytes, not %d" % (n, o, len(b), want))
        f.write("%d %d %s\n" % (o, len(b), hashlib.sha256(b).hexdigest()))
EOF

# The whole disks, through cat: armsim's bytes.  Holes cost nothing: every
# ranged GET is inside an allocated range, and the bytes fetched are the
# allocated ones (each byte once).
for k in os data; do
	f=$(eval echo "\$$k")
	clear_log
	sum=$(timeout 300 cat "$f" | sha256sum | cut -d' ' -f1) || fail "cat of $f failed"
	expect_eq "sha256 of $k disk" "$(jq -r .sha256 "$WORKDIR/$k.ref")" "$sum"
	sim GET /_armsim/log >"$WORKDIR/log.$k"
	python3 - "$WORKDIR/log.$k" "$WORKDIR/$k.ref" <<'EOF' || fail "the $k disk was read outside its allocated ranges"
import json, re, sys
log = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
r = json.load(open(sys.argv[2]))
got = n = 0
for e in log:
    if e.get("operationId") != "Blob_Get":
        continue
    m = re.match(r"bytes=(\d+)-(\d+)", e.get("range") or "")
    if not m:
        sys.exit("a Blob_Get without a range: %s" % e)
    a, b = int(m.group(1)), int(m.group(2))
    inside = sum(max(0, min(b, t) - max(a, s) + 1) for s, t in r["ranges"])
    if inside * 20 < (b - a + 1) * 19:
        sys.exit("GET %d-%d reads mostly unallocated bytes" % (a, b))
    got += int(e.get("bytes") or 0)
    n += 1
if got > r["allocated"] * 1.05:
    sys.exit("fetched %d bytes for %d allocated" % (got, r["allocated"]))
print("%d GETs, %d bytes fetched for %d allocated" % (n, got, r["allocated"]), file=sys.stderr)
EOF
done
expect_eq "VHD footer cookie" conectix "$(tail -c 512 "$os" | head -c 8)"

# The cold reads were right.
cp --sparse=always "$data" "$WORKDIR/data.img" || fail "cp --sparse=always of vm-a-data.vhd failed"
python3 - "$WORKDIR/data.img" "$WORKDIR/data.reads" <<'EOF' || fail "a cold read differs from the disk's bytes"
import hashlib, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for line in open(sys.argv[2]):
    o, n, h = line.split()
    b = os.pread(fd, int(n), int(o))
    if hashlib.sha256(b).hexdigest() != h:
        sys.exit("read of %s bytes at %s differs" % (n, o))
EOF
expect_eq "sha256 of the sparse copy" "$(jq -r .sha256 "$WORKDIR/data.ref")" \
	"$(sha256sum <"$WORKDIR/data.img" | cut -d' ' -f1)"
alloc_kib=$(( $(jq -r .allocated "$WORKDIR/data.ref") / 1024 ))
du_kib=$(du -k "$WORKDIR/data.img" | cut -f1)
[ "$du_kib" -le $((alloc_kib + 1024)) ] ||
	fail "cp --sparse=always made a copy of $du_kib KiB on disk for $alloc_kib KiB allocated"

# SEEK_DATA / SEEK_HOLE walk the page list.
python3 - "$data" "$WORKDIR/data.ref" <<'EOF' || fail "SEEK_DATA/SEEK_HOLE do not match the page list"
import json, os, sys
r = json.load(open(sys.argv[2]))
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
if os.fstat(fd).st_blocks * 512 < r["allocated"] or os.fstat(fd).st_blocks * 512 > r["allocated"] + 511:
    sys.exit("st_blocks %d for %d allocated bytes" % (os.fstat(fd).st_blocks, r["allocated"]))
seen, off = [], 0
while True:
    try:
        s = os.lseek(fd, off, os.SEEK_DATA)
    except OSError:
        break
    e = os.lseek(fd, s, os.SEEK_HOLE)
    seen.append([s, e - 1])
    off = e
    if off >= size:
        break
want = []
for s, e in r["ranges"]:
    if want and want[-1][1] + 1 == s:
        want[-1][1] = e
    else:
        want.append([s, e])
if seen != want:
    sys.exit("data segments %s, page list %s" % (seen, want))
EOF

grep -q "^$osid [0-9T:-]*Z [0-9][0-9]* [0-9][0-9]*$" "$MNT/.rpfs/disks" ||
	fail ".rpfs/disks lacks a line for $osid: $(cat "$MNT/.rpfs/disks")"
grep -q 'sig=' "$MNT/.rpfs/disks" && fail ".rpfs/disks shows a SAS"

# A block cache of 4 MiB and one connection: evictions, the same bytes.
umount_rpfs
mount_rpfs -o disk_cache=4,disk_conns=1
sum=$(timeout 300 cat "$data" | sha256sum | cut -d' ' -f1) || fail "cat with disk_cache=4 failed"
expect_eq "sha256 of the data disk with disk_cache=4" "$(jq -r .sha256 "$WORKDIR/data.ref")" "$sum"
ev=$(rel_stat disk_cache_evictions)
[ "${ev:-0}" -gt 0 ] || fail "no block was evicted with disk_cache=4 ($(grep disk_ "$MNT/.rpfs/stats"))"
pass
