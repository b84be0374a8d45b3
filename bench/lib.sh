# bench/lib.sh - what the standalone cases of bench/run share (sourced by
# bench/disks.sh and bench/cache-cap.sh): the subscription and token armsim
# accepts, a scratch directory with a mount point and the token file, the
# messages, and the cleanup that unmounts and stops armsim even on failure.
# The sourcing script sets BENCH_NAME first, and APID when it starts armsim.

SUB=8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20
TOKEN=rpfs-bench-token
TMP=$(mktemp -d "${TMPDIR:-/tmp}/rpfs-bench-$BENCH_NAME.XXXXXX")
MNT=$TMP/mnt
mkdir -p "$MNT"
printf '%s\n' "$TOKEN" >"$TMP/token"
chmod 600 "$TMP/token"
APID=

say() { printf 'bench: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }
cleanup() {
	set +e
	mountpoint -q "$MNT" 2>/dev/null && { fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT"; }
	[ -n "$APID" ] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

now_ns() { date +%s%N; }
