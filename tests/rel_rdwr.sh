#!/bin/sh
# A view file opened read-write reads as it does read-only (the content,
# not 0 bytes), closing it unwritten changes nothing, and mmap of a view
# file either maps the content or fails with an error, never SIGBUS.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=60
C=$MNT/eastus/rg-prod/rpc-vm-web-01
P=$C/rp-20261120-0200
ls "$P" >/dev/null || fail "listing $P"

mut_clear
for f in "$P/state" "$P/id" "$P/restorepoint.json" "$C/tags" "$C/id" "$C/collection.json"; do
	python3 - "$f" <<'PY' || fail "reading $f opened O_RDWR"
import os, sys
path = sys.argv[1]
want = open(path, "rb").read()
size = os.stat(path).st_size
fd = os.open(path, os.O_RDWR)
got = b""
while True:
    b = os.read(fd, 65536)
    if not b:
        break
    got += b
os.close(fd)
if got != want or len(got) != size:
    sys.exit("%s: O_RDWR read %d bytes, O_RDONLY %d, st_size %d" % (path, len(got), len(want), size))
PY
done
mut_no_writes "read-write opens that wrote nothing"

# mmap in a child, so that a SIGBUS shows as its exit status.
for mode in shared-rdwr private-rdwr shared-rdonly; do
	for f in "$P/state" "$C/tags"; do
		python3 - "$f" "$mode" <<'PY'
import mmap, os, sys
path, mode = sys.argv[1], sys.argv[2]
want = open(path, "rb").read()
fd = os.open(path, os.O_RDONLY if mode == "shared-rdonly" else os.O_RDWR)
try:
    if mode == "private-rdwr":
        m = mmap.mmap(fd, 0, access=mmap.ACCESS_COPY)
    elif mode == "shared-rdonly":
        m = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
    else:
        m = mmap.mmap(fd, 0)
except OSError as e:
    print("%s %s: mmap refused: %s" % (path, mode, e))
    sys.exit(0)
got = m[:]
m.close()
os.close(fd)
if got != want:
    sys.exit("%s %s: mmap shows %r, read %r" % (path, mode, got[:40], want[:40]))
print("%s %s: mmap maps the content" % (path, mode))
PY
		rc=$?
		[ "$rc" = 0 ] || fail "mmap ($mode) of $f: exit status $rc (SIGBUS is 135/-7)"
	done
done >"$WORKDIR/mmap.txt"
log "$(cat "$WORKDIR/mmap.txt")"
mut_no_writes "mmap of view files"
pass
