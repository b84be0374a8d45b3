# tests/lib.sh - shared shell library for mounted tests and armsim tests.
#
# A test sources it, then calls, for example:
#   start_armsim --demo            # sets ARMSIM_URL, ARMSIM_PORT, ARMSIM_LOG
#   mount_rpfs -o ttl=60           # sets MNT; rpfs log in RPFS_LOG
#   ls "$MNT"
#   pass                           # or: fail "reason"
#
# Every exit path runs cleanup: unmount (fusermount3 -u, then -uz), stop
# the servers the test started, and fail the test when a daemon log holds
# a sanitizer report or a crash.  In CI (CI=true) a skip is a failure.

set -u

: "${RPFS:=$(cd "$(dirname "$0")/.." && pwd)/src/rpfs}"
: "${ARMSIM:=$(cd "$(dirname "$0")/.." && pwd)/contrib/armsim/armsim}"
: "${TESTS_SRCDIR:=$(cd "$(dirname "$0")" && pwd)}"

TEST_NAME=$(basename "$0" .sh)
WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/rpfs-$TEST_NAME.XXXXXX")
MNT=
ARMSIM_PID=
RPFS_PID=
RPFS_CONN=
ARMSIM_LOG=$WORKDIR/armsim.log
RPFS_LOG=$WORKDIR/rpfs.log
_lib_failed=0
_lib_pids=

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:log_path=$WORKDIR/asan}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:log_path=$WORKDIR/ubsan}"

log() { printf '%s: %s\n' "$TEST_NAME" "$*" >&2; }

# Skip (exit 77), or fail in CI where every test must run.
skip() {
	log "SKIP: $*"
	if [ "${CI:-}" = true ]; then exit 1; fi
	exit 77
}

fail() {
	log "FAIL: $*"
	_lib_failed=1
	exit 1
}

pass() { exit 0; }

# check DESCRIPTION CMD...: run CMD, fail with DESCRIPTION when it fails.
check() {
	local what=$1; shift
	"$@" || fail "$what (command: $*)"
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
	[ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"
}

# expect_errno ERRNO-NAME CMD...: run CMD, which must fail with that
# message (strerror text in its stderr).
expect_errno() {
	local name=$1; shift
	local msg out
	case $name in
		EINVAL) msg='Invalid argument' ;;
		EEXIST) msg='File exists' ;;
		ENOENT) msg='No such file or directory' ;;
		EPERM) msg='Operation not permitted' ;;
		EACCES) msg='Permission denied' ;;
		EBUSY) msg='Device or resource busy' ;;
		EDQUOT) msg='Disk quota exceeded' ;;
		EROFS) msg='Read-only file system' ;;
		ENOTEMPTY) msg='Directory not empty' ;;
		EAGAIN) msg='Resource temporarily unavailable' ;;
		EIO) msg='Input/output error' ;;
		ETIMEDOUT) msg='Connection timed out' ;;
		EHOSTUNREACH) msg='No route to host' ;;
		EFBIG) msg='File too large' ;;
		*) fail "expect_errno: unknown errno $name" ;;
	esac
	if out=$("$@" 2>&1); then
		fail "expected $name from: $* (it succeeded)"
	fi
	case $out in
		*"$msg"*) return 0 ;;
	esac
	fail "expected $name ($msg) from: $*; got: $out"
}

_sanitizer_check() {
	local f
	for f in "$WORKDIR"/asan* "$WORKDIR"/ubsan*; do
		[ -s "$f" ] || continue
		log "sanitizer report in $f:"
		head -50 "$f" >&2
		return 1
	done
	for f in "$RPFS_LOG" "$ARMSIM_LOG"; do
		[ -f "$f" ] || continue
		if grep -Eq 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:|Segmentation fault|SUMMARY: .*Sanitizer' "$f"; then
			log "sanitizer report or crash in $f:"
			grep -E -A20 'Sanitizer|runtime error' "$f" | head -60 >&2
			return 1
		fi
	done
	return 0
}

# at_exit CMD: run CMD (a shell string) first when the test exits.
_lib_at_exit=
at_exit() { _lib_at_exit="$1; $_lib_at_exit"; }

cleanup() {
	local rc=$?
	set +e
	[ -n "$_lib_at_exit" ] && eval "$_lib_at_exit"
	if [ -n "$MNT" ] && mountpoint -q "$MNT" 2>/dev/null; then
		fusermount3 -u "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" 2>/dev/null
	fi
	if [ -n "$RPFS_PID" ]; then
		local i
		for i in $(seq 50); do kill -0 "$RPFS_PID" 2>/dev/null || break; sleep 0.1; done
		kill -TERM "$RPFS_PID" 2>/dev/null
		for i in $(seq 150); do kill -0 "$RPFS_PID" 2>/dev/null || break; sleep 0.1; done
		if kill -0 "$RPFS_PID" 2>/dev/null; then
			# A daemon that does not stop would hold the test (and any
			# process blocked in the mount) forever: fail its requests.
			log "rpfs did not exit 15 s after SIGTERM: aborting its FUSE connection"
			_lib_abort_conn
			kill -KILL "$RPFS_PID" 2>/dev/null
		fi
	fi
	local p
	for p in $_lib_pids; do kill -TERM "$p" 2>/dev/null; done
	for p in $_lib_pids; do
		for i in $(seq 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	if ! _sanitizer_check; then
		[ "$rc" -eq 0 ] && rc=1
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for f in "$RPFS_LOG" "$ARMSIM_LOG"; do
			[ -s "$f" ] || continue
			log "--- last lines of $f"
			tail -40 "$f" >&2
		done
	fi
	if [ "$rc" -eq 0 ] || [ "${KEEP_WORKDIR:-}" = "" ]; then
		rm -rf "$WORKDIR"
	fi
	exit "$rc"
}
# _lib_abort_conn: abort the mount's FUSE connection (fusectl), so that
# every request waiting on it fails with ENOTCONN.
_lib_abort_conn() {
	local a=/sys/fs/fuse/connections/$RPFS_CONN/abort
	[ -n "$RPFS_CONN" ] || return 0
	[ -e "$a" ] || mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null
	[ -w "$a" ] && echo 1 >"$a"
	return 0
}

trap cleanup EXIT
trap 'exit 130' INT TERM

need_fuse() {
	[ -c /dev/fuse ] || skip "no /dev/fuse"
	command -v fusermount3 >/dev/null || skip "no fusermount3"
	[ -x "$RPFS" ] || skip "rpfs not built"
}

need_armsim() {
	[ -x "$ARMSIM" ] || skip "armsim not built (configure --disable-armsim?)"
}

# wait_for COUNT-OF-TENTHS CMD...: poll until CMD succeeds.
wait_for() {
	local n=$1; shift
	local i
	for i in $(seq "$n"); do
		"$@" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_armsim [ARGS...]: start armsim on a free loopback port (plain
# HTTP).  Sets ARMSIM_URL (base, no trailing slash), ARMSIM_PORT.
start_armsim() {
	need_armsim
	local pf=$WORKDIR/armsim.port
	rm -f "$pf"
	"$ARMSIM" --listen 127.0.0.1:0 --port-file "$pf" --accept-token rpfs-test-token "$@" \
		>>"$ARMSIM_LOG" 2>&1 &
	ARMSIM_PID=$!
	_lib_pids="$_lib_pids $ARMSIM_PID"
	wait_for 100 test -s "$pf" || fail "armsim did not start"
	ARMSIM_PORT=$(cat "$pf")
	ARMSIM_URL="http://127.0.0.1:$ARMSIM_PORT"
	export ARMSIM_URL ARMSIM_PORT
}

# sim GET|POST PATH [BODY]: talk to armsim's control API; prints the body.
sim() {
	local method=$1 path=$2 body=${3:-}
	if [ -n "$body" ]; then
		curl -sS -f -X "$method" -H 'Content-Type: application/json' --data "$body" "$ARMSIM_URL$path"
	else
		curl -sS -f -X "$method" "$ARMSIM_URL$path"
	fi
}

# arm METHOD PATH-WITH-QUERY [BODY]: an authenticated ARM call to armsim.
arm() {
	local method=$1 path=$2 body=${3:-}
	if [ -n "$body" ]; then
		curl -sS -X "$method" -H 'Authorization: Bearer rpfs-test-token' \
			-H 'Content-Type: application/json' --data "$body" "$ARMSIM_URL$path"
	else
		curl -sS -X "$method" -H 'Authorization: Bearer rpfs-test-token' "$ARMSIM_URL$path"
	fi
}

# simlog FILTER: jq over armsim's request log (one JSON per line).
simlog() {
	sim GET /_armsim/log | jq -c "$1"
}

# fault JSON: add a fault rule.
fault() {
	sim POST /_armsim/faults "$1" >/dev/null || fail "cannot add fault $1"
}

# The demo subscription id of armsim.
DEMO_SUB=8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20

# mount_rpfs [RPFS-ARGS...]: mount rpfs on $WORKDIR/mnt against armsim with
# a token file; runs in the foreground in the background of this shell.
# Fails at once (the log's tail follows) when the daemon exits before the
# mount appears, rather than after the whole wait.
mount_rpfs() {
	need_fuse
	MNT=$WORKDIR/mnt
	mkdir -p "$MNT"
	printf '%s\n' rpfs-test-token >"$WORKDIR/token"
	chmod 600 "$WORKDIR/token"
	"$RPFS" -f -o "endpoint=$ARMSIM_URL,token_file=$WORKDIR/token,subscription=${RPFS_SUB:-$DEMO_SUB}" \
		-o log_level=debug "$@" "$MNT" >>"$RPFS_LOG" 2>&1 &
	RPFS_PID=$!
	local i rc
	for i in $(seq 100); do
		mountpoint -q "$MNT" 2>/dev/null && break
		if ! kill -0 "$RPFS_PID" 2>/dev/null; then
			wait "$RPFS_PID"
			rc=$?
			RPFS_PID=
			fail "rpfs exited with status $rc before it mounted"
		fi
		sleep 0.1
	done
	mountpoint -q "$MNT" 2>/dev/null || fail "rpfs did not mount"
	RPFS_CONN=$(mountpoint -d "$MNT" | cut -d: -f2)
}

umount_rpfs() {
	fusermount3 -u "$MNT" || fusermount3 -uz "$MNT"
	local i
	for i in $(seq 50); do kill -0 "$RPFS_PID" 2>/dev/null || break; sleep 0.1; done
	RPFS_PID=
}

# ---------------------------------------------------------------------------
# armsim test helpers (used by tests/armsim_*.sh)
# ---------------------------------------------------------------------------

# arm_req METHOD PATH-OR-URL [BODY [CURL-ARGS...]]: an ARM call with the test
# token (ARM_TOKEN overrides it; ARM_TOKEN= sends none).  Sets ARM_STATUS
# (000 when the connection failed; curl's exit code in ARM_CURL_RC),
# ARM_BODY, and ARM_HDRS (a file holding the response headers).
arm_req() {
	local method=$1 url=$2 body=${3:-}
	shift 2
	[ $# -gt 0 ] && shift
	case $url in http*) ;; *) url=$ARMSIM_URL$url ;; esac
	ARM_HDRS=$WORKDIR/arm.hdrs
	: >"$ARM_HDRS"
	rm -f "$WORKDIR/arm.body"
	local tok=${ARM_TOKEN-rpfs-test-token}
	set -- -sS -X "$method" -D "$ARM_HDRS" -o "$WORKDIR/arm.body" -w '%{http_code}' "$@"
	[ -n "$tok" ] && set -- -H "Authorization: Bearer $tok" "$@"
	[ -n "$body" ] && set -- -H 'Content-Type: application/json' --data "$body" "$@"
	ARM_CURL_RC=0
	ARM_STATUS=$(curl "$@" "$url" 2>/dev/null) || ARM_CURL_RC=$?
	[ -n "$ARM_STATUS" ] || ARM_STATUS=000
	ARM_BODY=$(cat "$WORKDIR/arm.body" 2>/dev/null || true)
}

# arm_hdr NAME: the value of response header NAME of the last arm_req.
arm_hdr() {
	tr -d '\r' <"$ARM_HDRS" | awk -v n="$1" 'BEGIN{n=tolower(n)} { i=index($0,":"); if (i && tolower(substr($0,1,i-1))==n) v=substr($0,i+2) } END{print v}'
}

# jpy EXPR: evaluate a Python expression over the JSON on stdin (as d);
# strings print bare, anything else as JSON.
jpy() {
	python3 -c 'import json,sys
d=json.loads(sys.stdin.read() or "null")
v=eval(sys.argv[1])
print(v if isinstance(v,str) else json.dumps(v))' "$1"
}

# expect_status DESCRIPTION CODE: the last arm_req answered CODE.
expect_status() {
	[ "$ARM_STATUS" = "$2" ] || fail "$1: expected HTTP $2, got $ARM_STATUS: $ARM_BODY"
}

# expect_code DESCRIPTION HTTP ARM-CODE: the last arm_req failed with this CloudError.
expect_code() {
	expect_status "$1" "$2"
	local c
	c=$(printf '%s' "$ARM_BODY" | jpy 'd["error"]["code"]')
	[ "$c" = "$3" ] || fail "$1: expected error code $3, got $c: $ARM_BODY"
}

# sim_advance SECONDS: fast-forward armsim's clock.
sim_advance() {
	sim POST /_armsim/clock "{\"advance\":$1}" >/dev/null
}

# rpc_path RG [NAME]: the path of the collections of RG (or of collection NAME).
rpc_path() {
	printf '/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/restorePointCollections%s' \
		"$DEMO_SUB" "$1" "${2:+/$2}"
}
