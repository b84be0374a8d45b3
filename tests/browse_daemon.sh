#!/bin/sh
# Daemon basics: a start-up failure is one message and nothing mounted;
# without -f rpfs goes to the background and serves the mount; SIGTERM
# while requests are in flight unmounts and exits cleanly.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/fs_lib.sh"

need_fuse
start_armsim --demo
MNT=$WORKDIR/mnt
mkdir -p "$MNT"
printf '%s\n' rpfs-test-token >"$WORKDIR/token"
chmod 600 "$WORKDIR/token"
base="token_file=$WORKDIR/token,subscription=$DEMO_SUB"

if "$RPFS" -f -o "endpoint=http://127.0.0.1:1,$base,retries=0" "$MNT" 2>"$WORKDIR/err"; then
	fail "rpfs started without ARM"
fi
grep -q 'cannot reach ARM' "$WORKDIR/err" || fail "no clear message: $(cat "$WORKDIR/err")"
expect_eq "lines on stderr" 1 "$(grep -c '^rpfs:' "$WORKDIR/err")"
mountpoint -q "$MNT" && fail "something is mounted after a failed start"

"$RPFS" -o "endpoint=$ARMSIM_URL,$base" "$MNT" 2>"$WORKDIR/err" || fail "rpfs failed: $(cat "$WORKDIR/err")"
mountpoint -q "$MNT" || fail "not mounted after rpfs returned"
pid=$(ps -eo pid=,args= | awk -v m="$MNT" 'index($0, m) && index($0, "token_file") { print $1 }' | head -1)
[ -n "$pid" ] || fail "cannot find the daemon"
_lib_pids="$_lib_pids $pid"
ls "$MNT/eastus/rg-prod" >/dev/null || fail "ls through the background daemon"

# SIGTERM while collection GETs are slow and a listing waits for them.
sim POST /_armsim/faults '{"match":{"operationId":"RestorePointCollections_Get"},"kind":"latency","latency_ms":1500}' >/dev/null ||
	fail "cannot add the latency fault"
ls -lR "$MNT/westus2" >/dev/null 2>&1 &
lspid=$!
sleep 0.5
kill -TERM "$pid"
for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the daemon did not exit within 10 s of SIGTERM"
mountpoint -q "$MNT" && fail "still mounted after SIGTERM"
wait "$lspid" # its result does not matter, only that it ends
pass
