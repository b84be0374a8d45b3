#!/bin/sh
# A valgrind memcheck run of a mount session (mount, ls -lR, cat of every
# view file and of progress files, a flush, a second walk, walks under
# faults and bad answers for the error paths, unmount): no
# definite leak and no memory error.  valgrind cannot run a
# sanitizer-instrumented binary, so when $RPFS is built with ASan the test
# compiles a plain rpfs from the same sources into its work directory
# first (one gcc call, about 20 s).  Bounded: the session has 120 s.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
command -v valgrind >/dev/null || skip "valgrind not installed"
need_fuse

BIN=$RPFS
if nm "$RPFS" 2>/dev/null | grep -q '__asan_init\|__tsan_init' ||
	ldd "$RPFS" 2>/dev/null | grep -q 'libasan\|libtsan'; then
	src=$(cd "$TESTS_SRCDIR/../src" && pwd)
	cfg=$(cd "$(dirname "$RPFS")/.." && pwd)
	[ -f "$cfg/config.h" ] || skip "no config.h next to $RPFS"
	BIN=$WORKDIR/rpfs-plain
	# shellcheck disable=SC2046
	${CC:-cc} -std=gnu11 -O1 -g -DSYSCONFDIR='"/etc"' -I"$cfg" -I"$src" \
		$(pkg-config --cflags fuse3 libcurl json-c) -o "$BIN" "$src"/*.c \
		$(pkg-config --libs fuse3 libcurl json-c) -lpthread -lm 2>"$WORKDIR/cc.err" ||
		fail "cannot build a plain rpfs: $(tail -5 "$WORKDIR/cc.err")"
fi

start_armsim --demo
MNT=$WORKDIR/mnt
mkdir -p "$MNT"
printf '%s\n' rpfs-test-token >"$WORKDIR/token"
chmod 600 "$WORKDIR/token"
VG=$WORKDIR/valgrind.log
timeout 120 valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite --error-exitcode=99 --log-file="$VG" \
	"$BIN" -f -o "endpoint=$ARMSIM_URL,token_file=$WORKDIR/token,subscription=$DEMO_SUB,op_timeout=30" \
	-o log_level=debug "$MNT" >>"$RPFS_LOG" 2>&1 &
RPFS_PID=$!
wait_for 300 mountpoint -q "$MNT" || fail "rpfs under valgrind did not mount"
rel_walk "$MNT" "$WORKDIR/w1" || fail "walk under valgrind: $(head -3 "$WORKDIR/w1.err")"
cat "$MNT"/.rpfs/* >/dev/null 2>&1
rel_flush
ls -lR "$MNT" >/dev/null || fail "second walk"
stat "$MNT/eastus/no-such-group" >/dev/null 2>&1
# the error paths: faults on a third of the requests, then bad answers
for k in '"kind":"status","status":500' '"kind":"truncate"' '"kind":"malformed"' '"kind":"reset"' \
	'"kind":"throttle","retry_after":0'; do
	fault "{$k,\"probability\":0.3,\"seed\":7}"
done
rel_flush
rel_walk "$MNT" "$WORKDIR/w2" || log "walk with faults: $(head -2 "$WORKDIR/w2.err")"
clear_faults
for b in '"body":"[","repeat":1000' '"body":"{\"value\":\"x\"}"' \
	"\"body\":\"{\\\"value\\\":[],\\\"nextLink\\\":\\\"http://127.0.0.1:1/x\\\"}\""; do
	fault "{\"match\":{\"operationId\":\"RestorePointCollections_ListAll\"},\"kind\":\"body\",$b}"
	rel_flush
	ls "$MNT/eastus" >/dev/null 2>&1
	clear_faults
done
ls -lR "$MNT" >/dev/null || fail "walk after the faults"
fusermount3 -u "$MNT" || fail "cannot unmount"
rc=0
wait "$RPFS_PID" || rc=$?
RPFS_PID=
grep -E 'definitely lost|ERROR SUMMARY|Invalid|uninitialised' "$VG" | head -10 >&2
[ "$rc" != 124 ] || fail "the session under valgrind took more than 120 s"
grep -q 'ERROR SUMMARY: 0 errors' "$VG" || fail "valgrind reports errors: $(grep -A12 -E 'Invalid|uninitialised|definitely lost in' "$VG" | head -40)"
[ "$rc" = 0 ] || fail "rpfs under valgrind exited with $rc"
if grep -q 'definitely lost: [1-9]' "$VG"; then
	fail "definite leak: $(grep -B2 -A15 'definitely lost in' "$VG" | head -40)"
fi
log "FIGURE valgrind: $(grep -E 'definitely lost|in use at exit|All heap blocks|ERROR SUMMARY' "$VG" | sed 's/^==[0-9]*== *//' | tr '\n' ' ')"
pass
