#!/bin/sh
# armsim: disk restore points (list, get, beginGetAccess / endGetAccess as
# long-running operations) and the blob endpoint that serves their bytes
# to a SAS: ranges, HEAD, Get Page Ranges with paging, the VHD footer, the
# 403s of a SAS that is no longer good, 409s, --disk-image, the refused
# Authorization header, and faults on blob routes.
. "$TESTS_SRCDIR/lib.sh"
command -v python3 >/dev/null || skip "no python3"

SUB=00000000-0000-0000-0000-0000000000d1
RG=/subscriptions/$SUB/resourceGroups/rg-disk/providers/Microsoft.Compute
VM=$RG/virtualMachines/vm-disk
P1=$RG/restorePointCollections/rpc-disk/restorePoints/rp-1
C1=$RG/restorePointCollections/rpc-disk-westus2/restorePoints/rp-1
MIB=1048576

# a sparse image: a marker at 0 and at 3 MiB, a hole between
python3 - "$WORKDIR/img.raw" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"IMAGE-START" + bytes(512 - 11))
    f.seek(3 * 1048576)
    f.write(b"IMAGE-AT-3MIB" + bytes(4096 - 13))
    f.truncate(4 * 1048576)
EOF
cat >"$WORKDIR/seed.json" <<EOF
{"subscription": "$SUB", "locations": ["eastus", "westus2"],
 "resourceGroups": [{"name": "rg-disk", "location": "eastus"}],
 "vms": [{"id": "$VM", "location": "eastus", "osType": "Linux",
          "disks": [{"name": "vm-disk-os", "sizeGB": 1,
                     "allocated": [[0, $MIB], [536870912, 2097152], [1073479680, 262144]]},
                    {"name": "vm-disk-deny", "lun": 0, "sizeGB": 1,
                     "networkAccessPolicy": "DenyAll"},
                    {"name": "vm-disk-img", "lun": 1, "sizeGB": 1}]}],
 "collections": [
   {"name": "rpc-disk", "resourceGroup": "rg-disk", "location": "eastus",
    "source": {"id": "$VM"}, "points": [{"name": "rp-1"}]},
   {"name": "rpc-disk-westus2", "resourceGroup": "rg-disk", "location": "westus2",
    "source": {"id": "$RG/restorePointCollections/rpc-disk"},
    "points": [{"name": "rp-1", "sourceRestorePoint": "$P1", "progress": [100, 100, 40]}]}]}
EOF
# a bad allocated list or policy stops armsim, naming the disk
need_armsim
for bad in '"allocated": [5]' '"allocated": [[0, 100]]' '"allocated": [[0, 2147483648]]' \
	'"networkAccessPolicy": "Closed"'; do
	printf '{"vms": [{"id": "%s", "location": "eastus", "disks": [{"name": "d", "sizeGB": 1, %s}]}]}' "$VM" "$bad" \
		>"$WORKDIR/bad.json"
	rc=0
	timeout 10 "$ARMSIM" --seed "$WORKDIR/bad.json" >"$WORKDIR/bad.out" 2>&1 || rc=$?
	expect_eq "bad seed ($bad) exit status" 2 "$rc"
	grep -qF '$.vms[0].disks[0]' "$WORKDIR/bad.out" || fail "bad seed ($bad): $(cat "$WORKDIR/bad.out")"
done

start_armsim --seed "$WORKDIR/seed.json" --retry-after 5 --grant-seconds 2 --copy-seconds 100000 \
	--pagelist-max 2 --blob-port-file "$WORKDIR/blob.port" \
	--disk-image "vm-disk-img=$WORKDIR/img.raw"
wait_for 50 test -s "$WORKDIR/blob.port" || fail "no blob port file"
BLOB_PORT=$(cat "$WORKDIR/blob.port")
[ "$BLOB_PORT" != "$ARMSIM_PORT" ] || fail "the blob endpoint shares ARM's port"
V=api-version=2025-01-02

# list and get
arm_req GET "$P1/diskRestorePoints?$V"
expect_status "list" 200
expect_eq "three disk restore points" 3 "$(printf '%s' "$ARM_BODY" | jpy 'len(d["value"])')"
OS=$(printf '%s' "$ARM_BODY" | jpy '[x["id"] for x in d["value"] if x["name"].startswith("vm-disk-os_")][0]')
DENY=$(printf '%s' "$ARM_BODY" | jpy '[x["id"] for x in d["value"] if x["name"].startswith("vm-disk-deny_")][0]')
IMG=$(printf '%s' "$ARM_BODY" | jpy '[x["id"] for x in d["value"] if x["name"].startswith("vm-disk-img_")][0]')
arm_req GET "$P1?api-version=2025-04-01"
printf '%s' "$ARM_BODY" | jpy 'd["properties"]["sourceMetadata"]["storageProfile"]["osDisk"]["diskRestorePoint"]["id"]' |
	grep -qxF "$OS" || fail "the list's id is not the one restorepoint.json gives"
arm_req GET "$OS?$V"
expect_status "get" 200
expect_eq "sector size" 512 "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["logicalSectorSize"]')"
expect_eq "complete" 100 "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["completionPercent"]')"
expect_eq "source disk" "$RG/disks/vm-disk-os" "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["sourceResourceId"]')"
arm_req GET "$OS?api-version=2025-04-01"
expect_code "a Compute version is not a DiskRP one" 400 InvalidApiVersionParameter
arm_req GET "$OS-nope?$V"
expect_code "unknown disk restore point" 404 ResourceNotFound
arm_req GET "$C1/diskRestorePoints?$V"
CIMG=$(printf '%s' "$ARM_BODY" | jpy '[x["id"] for x in d["value"] if x["name"].startswith("vm-disk-img_")][0]')
COS=$(printf '%s' "$ARM_BODY" | jpy '[x["id"] for x in d["value"] if x["name"].startswith("vm-disk-os_")][0]')
arm_req GET "$CIMG?$V"
expect_eq "copy still replicating" 40 "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["completionPercent"]')"
expect_eq "copy's source location" eastus "$(printf '%s' "$ARM_BODY" | jpy 'd["properties"]["sourceResourceLocation"]')"

# grant ID [DURATION]: beginGetAccess, 202 + Location (on ARM's origin)
# that answers 202 while it runs (--grant-seconds 2, Retry-After the
# smaller of that and --retry-after) and then the SAS; sets SAS.
grant() {
	arm_req POST "$1/beginGetAccess?$V" "{\"access\":\"Read\",\"durationInSeconds\":${2:-600}}"
	expect_status "beginGetAccess" 202
	local loc
	loc=$(arm_hdr Location)
	case $loc in "$ARMSIM_URL/"*) ;; *) fail "Location not on ARM's origin: $loc" ;; esac
	expect_eq "grant Retry-After" 2 "$(arm_hdr Retry-After)"
	arm_req GET "$loc"
	expect_status "grant operation running" 202
	sim_advance 3
	arm_req GET "$loc"
	expect_status "grant operation done" 200
	SAS=$(printf '%s' "$ARM_BODY" | jpy 'd["accessSAS"]')
}
grant "$OS"
case $SAS in "http://127.0.0.1:$BLOB_PORT/"*"sv=2021-08-06"*"sr=b"*"se="*"sp=r"*"sig="*) ;;
*) fail "SAS shape: $SAS" ;; esac
arm_req POST "$OS/beginGetAccess?$V" '{"access":"Write","durationInSeconds":60}'
expect_code "write access" 400 InvalidParameter
arm_req POST "$OS/beginGetAccess?$V" '{"access":"Read"}'
expect_code "no duration" 400 InvalidParameter
expect_eq "not JSON" 415 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer rpfs-test-token' \
	-H 'Content-Type: text/plain' --data '{"access":"Read","durationInSeconds":60}' "$ARMSIM_URL$OS/beginGetAccess?$V")"

# blob_req [CURL-ARGS...] URL: sets BLOB_STATUS, BLOB_HDRS (file), body in $WORKDIR/blob.body
blob_req() {
	BLOB_HDRS=$WORKDIR/blob.hdrs
	BLOB_RC=0
	BLOB_STATUS=$(curl -sS -D "$BLOB_HDRS" -o "$WORKDIR/blob.body" -w '%{http_code}' "$@" 2>/dev/null) || BLOB_RC=$?
}
blob_hdr() {
	tr -d '\r' <"$BLOB_HDRS" | awk -v n="$1" 'BEGIN{n=tolower(n)} { i=index($0,":"); if (i && tolower(substr($0,1,i-1))==n) v=substr($0,i+2) } END{print v}'
}
SIZE=$((1073741824 + 512))
blob_req -H 'x-ms-range: bytes=0-4095' -H 'x-ms-version: 2021-08-06' "$SAS"
expect_eq "ranged GET" 206 "$BLOB_STATUS"
expect_eq "Content-Range" "bytes 0-4095/$SIZE" "$(blob_hdr Content-Range)"
expect_eq "length" 4096 "$(wc -c <"$WORKDIR/blob.body")"
expect_eq "blob type" PageBlob "$(blob_hdr x-ms-blob-type)"
expect_eq "version echoed" 2021-08-06 "$(blob_hdr x-ms-version)"
[ -n "$(blob_hdr ETag)" ] && [ -n "$(blob_hdr Last-Modified)" ] && [ -n "$(blob_hdr x-ms-request-id)" ] ||
	fail "blob headers missing"
blob_req -H "Range: bytes=$((SIZE - 512))-" "$SAS"
expect_eq "Range header, open end" 206 "$BLOB_STATUS"
python3 - "$WORKDIR/blob.body" <<'EOF' || fail "the last 512 bytes are not a valid fixed VHD footer"
import struct, sys
f = open(sys.argv[1], "rb").read()
assert len(f) == 512 and f[:8] == b"conectix", f[:8]
assert struct.unpack(">Q", f[40:48])[0] == struct.unpack(">Q", f[48:56])[0] == 1 << 30
assert struct.unpack(">I", f[60:64])[0] == 2
assert (~(sum(f[:64]) + sum(f[68:]))) & 0xffffffff == struct.unpack(">I", f[64:68])[0]
c, h, s = struct.unpack(">H", f[56:58])[0], f[58], f[59]
assert c * h * s * 512 <= 1 << 30 and c and h and s
EOF
blob_req -H "x-ms-range: bytes=$SIZE-$((SIZE + 10))" "$SAS"
expect_eq "past the end" 416 "$BLOB_STATUS"
blob_req -I "$SAS"
expect_eq "HEAD" 200 "$BLOB_STATUS"
expect_eq "HEAD size" "$SIZE" "$(blob_hdr Content-Length)"
expect_eq "HEAD blob type" PageBlob "$(blob_hdr x-ms-blob-type)"

# keep-alive: a client's second request reuses the connection
curl -sv -o /dev/null -o /dev/null -r 0-9 "$SAS" "$SAS" 2>&1 | grep -qi 're-using existing connection\|reusing existing' ||
	fail "the blob endpoint closes the connection after each answer"

# page ranges: paged (--pagelist-max 2), their union is what /_armsim/disk says,
# and the allocated bytes plus zeros elsewhere hash to its sha256
sim GET "/_armsim/disk?id=$OS" >"$WORKDIR/disk.json"
python3 - "$SAS" "$WORKDIR/disk.json" <<'EOF' || fail "page ranges or contents differ from /_armsim/disk"
import hashlib, json, re, sys, urllib.request
sas, disk = sys.argv[1], json.load(open(sys.argv[2]))
ranges, marker, pages = [], None, 0
while True:
    url = sas + "&comp=pagelist" + ("&marker=" + marker if marker else "")
    xml = urllib.request.urlopen(url).read().decode()
    pages += 1
    assert xml.startswith('<?xml version="1.0" encoding="utf-8"?><PageList>'), xml
    got = [(int(a), int(b)) for a, b in re.findall(r"<PageRange><Start>(\d+)</Start><End>(\d+)</End></PageRange>", xml)]
    assert len(got) <= 2
    ranges += got
    m = re.search(r"<NextMarker>([^<]*)</NextMarker>", xml)
    if not m:
        assert "<NextMarker />" in xml, xml
        break
    marker = m.group(1)
assert pages >= 2, pages
assert [list(r) for r in ranges] == disk["ranges"], (ranges, disk["ranges"])
assert all(a % 512 == 0 and (b + 1) % 512 == 0 for a, b in ranges)
assert ranges[-1][1] == disk["size"] - 1
assert disk["allocated"] == sum(b - a + 1 for a, b in ranges) == 1048576 + 2097152 + 262144 + 512
h, pos = hashlib.sha256(), 0
zeros = bytes(1 << 22)
def pad(n):
    while n:
        k = min(n, len(zeros)); h.update(zeros[:k]); n -= k
for a, b in ranges:
    pad(a - pos)
    req = urllib.request.Request(sas, headers={"x-ms-range": "bytes=%d-%d" % (a, b)})
    data = urllib.request.urlopen(req).read()
    assert len(data) == b - a + 1 and any(data)
    h.update(data)
    pos = b + 1
pad(disk["size"] - pos)
assert h.hexdigest() == disk["sha256"], (h.hexdigest(), disk["sha256"])
# a hole reads as zeros
req = urllib.request.Request(sas, headers={"x-ms-range": "bytes=%d-%d" % (2 << 20, (2 << 20) + 4095)})
assert urllib.request.urlopen(req).read() == bytes(4096)
# pagelist within an x-ms-range
req = urllib.request.Request(sas + "&comp=pagelist", headers={"x-ms-range": "bytes=536870912-537395199"})
xml = urllib.request.urlopen(req).read().decode()
assert "<Start>536870912</Start><End>537395199</End>" in xml and xml.count("<PageRange>") == 1, xml
EOF

# a copy's disk holds its source's bytes
expect_eq "copy and source hash alike" "$(jpy 'd["sha256"]' <"$WORKDIR/disk.json")" \
	"$(sim GET "/_armsim/disk?id=$COS" | jpy 'd["sha256"]')"

# extending an active grant answers the same SAS
grants_of() { sim GET /_armsim/grants | jpy "[g['grants'] for g in d['value'] if g['diskRestorePointId'] == '$1']"; }
OLD=$SAS
grant "$OS" 900
expect_eq "extended grant, same SAS" "$OLD" "$SAS"
expect_eq "grant counted twice" "[2]" "$(grants_of "$OS")"

# 403: bad sig, missing sig, wrong path
blob_req -r 0-9 "$(printf '%s' "$SAS" | sed 's/sig=[^&]*/sig=AAAA/')"
expect_eq "bad sig" 403 "$BLOB_STATUS"
expect_eq "error code header" AuthenticationFailed "$(blob_hdr x-ms-error-code)"
grep -q '<Code>AuthenticationFailed</Code>' "$WORKDIR/blob.body" || fail "no Storage XML error"
blob_req -r 0-9 "${SAS%%&sig=*}"
expect_eq "no sig" 403 "$BLOB_STATUS"

# an Authorization header is counted and refused
blob_req -r 0-9 -H 'Authorization: Bearer rpfs-test-token' "$SAS"
expect_eq "Authorization refused" 400 "$BLOB_STATUS"
expect_eq "Authorization code" InvalidAuthenticationInfo "$(blob_hdr x-ms-error-code)"
expect_eq "Authorization counted" 1 "$(sim GET /_armsim/stats | jpy 'd["blob.authorization"]')"
sim GET /_armsim/log | grep -q '"auth":"authorization"' || fail "log does not say the header was there"
sim GET /_armsim/log | grep -qF "$(printf '%s' "$SAS" | sed 's/.*sig=//')" && fail "the log holds a SAS signature"
sim GET /_armsim/log | python3 -c '
import json, sys
l = [json.loads(x) for x in sys.stdin if "Blob_Get" in x]
assert any(x["range"] == "bytes=0-4095" and x["bytes"] == 4096 and x["status"] == 206 for x in l), l[:3]' ||
	fail "blob requests are not logged with range and bytes"

# faults on Blob_Get; an empty match keeps to ARM routes
fault '{"kind":"status","status":500,"count":1}'
blob_req -r 0-9 "$SAS"
expect_eq "empty match leaves blobs alone" 206 "$BLOB_STATUS"
sim DELETE /_armsim/faults >/dev/null
fault '{"match":{"operationId":"Blob_Get"},"kind":"status","status":503,"code":"ServerBusy","count":1}'
blob_req -r 0-9 "$SAS"
expect_eq "status fault" 503 "$BLOB_STATUS"
expect_eq "status fault code" ServerBusy "$(blob_hdr x-ms-error-code)"
blob_req -r 0-9 "$SAS"
expect_eq "fault count spent" 206 "$BLOB_STATUS"
fault '{"match":{"operationId":"Blob_Get"},"kind":"reset","count":1}'
blob_req -r 0-9 "$SAS"
expect_eq "reset" 000 "$BLOB_STATUS"
fault '{"match":{"operationId":"Blob_Get"},"kind":"truncate","count":1}'
blob_req -r 0-65535 "$SAS"
[ "$BLOB_RC" -ne 0 ] && [ "$(wc -c <"$WORKDIR/blob.body")" -lt 65536 ] || fail "truncate: rc $BLOB_RC"
fault '{"match":{"operationId":"Blob_GetProperties"},"kind":"latency","latency_ms":50,"count":1}'
blob_req -I "$SAS"
expect_eq "latency keeps the answer" 200 "$BLOB_STATUS"
expect_eq "latency rule spent on Blob_GetProperties" 0 "$(sim GET /_armsim/faults | jpy 'd[0]["count"]')"
fault '{"match":{"operationId":"Blob_GetPageRanges"},"kind":"body","body":"<PageList><PageRange>","count":1}'
blob_req "$SAS&comp=pagelist"
expect_eq "body fault on Get Page Ranges" "200 <PageList><PageRange>" "$BLOB_STATUS $(cat "$WORKDIR/blob.body")"
fault '{"match":{"path_prefix":"/"},"kind":"status","status":500,"count":1}'
blob_req -I "$SAS"
expect_eq "a path_prefix rule reaches the blob endpoint" 500 "$BLOB_STATUS"
sim DELETE /_armsim/faults >/dev/null

# endGetAccess: 202 + Location, then 200; the SAS is refused at once
arm_req POST "$OS/endGetAccess?$V"
expect_status "endGetAccess" 202
loc=$(arm_hdr Location)
blob_req -r 0-9 "$SAS"
expect_eq "after endGetAccess" 403 "$BLOB_STATUS"
sim_advance 3
arm_req GET "$loc"
expect_status "endGetAccess operation" 200
expect_eq "endGetAccess answer" "" "$ARM_BODY"
expect_eq "no grant left" "[]" "$(grants_of "$OS")"
grant "$OS"
[ "$SAS" != "$OLD" ] || fail "a new grant reused the ended SAS"

# out-of-band revoke
expect_eq "revoke" 1 "$(sim POST /_armsim/grants/revoke "{\"id\":\"$OS\"}" | jpy 'd["revoked"]')"
blob_req -r 0-9 "$SAS"
expect_eq "after revoke" 403 "$BLOB_STATUS"
expect_eq "revoke without a grant" 0 "$(sim POST /_armsim/grants/revoke "{\"id\":\"$OS\"}" | jpy 'd["revoked"]')"

# expiry on armsim's clock
grant "$OS" 60
blob_req -r 0-9 "$SAS"
expect_eq "fresh grant" 206 "$BLOB_STATUS"
sim_advance 120
blob_req -r 0-9 "$SAS"
expect_eq "after se" 403 "$BLOB_STATUS"
expect_eq "expired grants are not listed" "[]" "$(grants_of "$OS")"

# 409: DenyAll, a copy still replicating
arm_req POST "$DENY/beginGetAccess?$V" '{"access":"Read","durationInSeconds":60}'
expect_code "DenyAll" 409 OperationNotAllowed
printf '%s' "$ARM_BODY" | grep -q 'cannot be exported' || fail "DenyAll message: $ARM_BODY"
arm_req POST "$CIMG/beginGetAccess?$V" '{"access":"Read","durationInSeconds":60}'
expect_code "replicating copy" 409 OperationNotAllowed
printf '%s' "$ARM_BODY" | grep -q 'still being replicated' || fail "replicating message: $ARM_BODY"

# --disk-image: the image's bytes at their offsets, its extents allocated
grant "$IMG"
blob_req -r 0-10 "$SAS"
expect_eq "image start" IMAGE-START "$(cat "$WORKDIR/blob.body")"
blob_req -r $((3 * MIB))-$((3 * MIB + 12)) "$SAS"
expect_eq "image at 3 MiB" IMAGE-AT-3MIB "$(cat "$WORKDIR/blob.body")"
blob_req -r $((8 * MIB))-$((8 * MIB + 511)) "$SAS"
expect_eq "zeros past the image" "512 0" \
	"$(wc -c <"$WORKDIR/blob.body") $(tr -d '\000' <"$WORKDIR/blob.body" | wc -c)"
sim GET "/_armsim/disk?id=$IMG" | python3 -c '
import json, sys
d = json.load(sys.stdin)
r = d["ranges"]
assert r[0][0] == 0 and r[0][1] < 3 * 1048576, r
assert any(a <= 3 * 1048576 <= b for a, b in r), r
assert r[-1] == [1 << 30, (1 << 30) + 511], r' || fail "image extents"

# reset drops the grants
sim POST /_armsim/reset >/dev/null
blob_req -r 0-9 "$SAS"
expect_eq "after reset" 403 "$BLOB_STATUS"
pass
