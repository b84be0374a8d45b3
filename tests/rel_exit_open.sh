#!/bin/sh
# Files still open when the mount is lazily unmounted (fusermount3 -uz):
# rpfs exits cleanly once the last one is closed, and frees their content.
# The leak check is LeakSanitizer's, so the test needs the sanitizer build
# (configure --enable-sanitizers, as the test suite is run).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
need_fuse
ldd "$RPFS" 2>/dev/null | grep -q libasan || skip "rpfs is not built with --enable-sanitizers"

start_armsim --demo
mount_rpfs
P=$MNT/eastus/rg-prod/rpc-vm-web-01/rp-20261120-0200
ls "$P" >/dev/null || fail "listing $P"
# A holder keeps a written tags, a read-write view and a read file open
# until told to go; its exit closes them in that order (the kernel closes
# descriptors in ascending order), the read file, which has no FLUSH, last.
python3 - "$P/restorepoint.json" "$P/state" "$MNT/eastus/rg-prod/rpc-vm-web-01/tags" \
	"$WORKDIR/ready" "$WORKDIR/go" <<'PY' &
import os, sys, time
c = os.open(sys.argv[3], os.O_WRONLY); os.write(c, b"k=v\n")
b = os.open(sys.argv[2], os.O_RDWR); os.read(b, 100)
a = os.open(sys.argv[1], os.O_RDONLY); os.read(a, 65536)
open(sys.argv[4], "w").close()
for _ in range(300):
    if os.path.exists(sys.argv[5]):
        break
    time.sleep(0.1)
PY
holder=$!
wait_for 300 test -e "$WORKDIR/ready" || fail "the holder did not open its files"
fusermount3 -uz "$MNT" || fail "fusermount3 -uz"
kill -0 "$RPFS_PID" 2>/dev/null || fail "rpfs exited while files were open"
touch "$WORKDIR/go"
wait "$holder"
wait_for 150 sh -c "! kill -0 $RPFS_PID" || fail "rpfs did not exit after the last close"
rc=0
wait "$RPFS_PID" || rc=$?
RPFS_PID=
if grep -l 'LeakSanitizer' "$WORKDIR"/asan* >/dev/null 2>&1; then
	fail "LeakSanitizer: $(grep -h -A6 'leak of' "$WORKDIR"/asan* | head -20)"
fi
[ "$rc" = 0 ] || fail "rpfs exited with status $rc"
pass
