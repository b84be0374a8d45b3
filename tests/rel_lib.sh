# tests/rel_lib.sh - helpers of the rel_*.sh tests (after lib.sh).
command -v jq >/dev/null || skip "jq not installed"
command -v curl >/dev/null || skip "curl not installed"

# rel_walk MNT OUT: a full `ls -lR` and a `cat` of every view file into OUT
# (progress files, whose content moves with armsim's clock, are read but
# only their shape is kept: the last line's "total" word); fails the test
# when any command fails.
rel_walk() {
	local m=$1 out=$2 f
	: >"$out"
	timeout 120 ls -lR "$m" >"$out.ls" 2>"$out.err" || return 1
	# a progress file's size is that of its last read: leave it out
	sed -E '/ progress$/d' "$out.ls" >>"$out"
	(cd "$m" && find . -path ./.rpfs -prune -o -type f -print) 2>>"$out.err" | LC_ALL=C sort >"$out.files" ||
		return 1
	while IFS= read -r f; do
		case $f in
		*/progress)
			timeout 60 cat "$m/$f" >"$out.p" 2>>"$out.err" || return 1
			printf '%s: %s\n' "$f" "$(tail -1 "$out.p" | cut -d' ' -f1)" >>"$out" ;;
		*)
			printf '== %s\n' "$f" >>"$out"
			timeout 60 cat "$m/$f" >>"$out" 2>>"$out.err" || return 1 ;;
		esac
	done <"$out.files"
	return 0
}

# rel_flush: drop every answer rpfs has cached.
rel_flush() {
	echo 1 >"$MNT/.rpfs/flush" || fail "cannot write .rpfs/flush"
}

# rel_stat NAME: a counter of .rpfs/stats.
rel_stat() {
	awk -v k="$1" '$1 == k { print $2 }' "$MNT/.rpfs/stats"
}

# simlog FILTER: jq over armsim's request log (one JSON per line).
simlog() {
	sim GET /_armsim/log | jq -c "$1"
}

# fault JSON: add a fault rule.
fault() {
	sim POST /_armsim/faults "$1" >/dev/null || fail "cannot add fault $1"
}

# clear_faults: remove every fault rule.
clear_faults() {
	curl -sS -f -X DELETE "$ARMSIM_URL/_armsim/faults" >/dev/null || fail "cannot clear faults"
}

# clear_log: clear armsim's log and counters.
clear_log() {
	curl -sS -f -X DELETE "$ARMSIM_URL/_armsim/log" >/dev/null || fail "cannot clear the log"
}

# elapsed_ms CMD...: run CMD; sets REL_MS to its duration and REL_RC to its status.
elapsed_ms() {
	local t0 t1
	t0=$(date +%s%N)
	REL_RC=0
	REL_OUT=$("$@" 2>&1) || REL_RC=$?
	t1=$(date +%s%N)
	REL_MS=$(( (t1 - t0) / 1000000 ))
}

# errno_text NAME: strerror text of an errno name.
errno_text() {
	case $1 in
	EIO) echo 'Input/output error' ;;
	EAGAIN) echo 'Resource temporarily unavailable' ;;
	ETIMEDOUT) echo 'Connection timed out' ;;
	ENOENT) echo 'No such file or directory' ;;
	EINVAL) echo 'Invalid argument' ;;
	EACCES) echo 'Permission denied' ;;
	EPERM) echo 'Operation not permitted' ;;
	EHOSTUNREACH) echo 'No route to host' ;;
	*) fail "errno_text: unknown $1" ;;
	esac
}

# timed_errno ERRNO MAX_MS CMD...: CMD fails with ERRNO within MAX_MS.
timed_errno() {
	local want=$1 max=$2
	shift 2
	elapsed_ms "$@"
	[ "$REL_RC" -ne 0 ] || fail "$* succeeded (expected $want)"
	[ "$REL_MS" -le "$max" ] || fail "$* took $REL_MS ms (at most $max expected)"
	case $REL_OUT in
	*"$(errno_text "$want")"*) ;;
	*) fail "$*: expected $want, got: $REL_OUT" ;;
	esac
}

# rel_mount_env [RPFS-ARGS...]: like mount_rpfs, but authenticating with
# client credentials from the environment (AZURE_TENANT_ID, AZURE_CLIENT_ID,
# AZURE_CLIENT_SECRET) against armsim's token endpoint.
rel_mount_env() {
	need_fuse
	MNT=$WORKDIR/mnt
	mkdir -p "$MNT"
	env -u RPFS_TOKEN_FILE -u AZURE_FEDERATED_TOKEN_FILE "$RPFS" -f \
		-o "endpoint=$ARMSIM_URL,authority=$ARMSIM_URL,auth=env,subscription=$DEMO_SUB" \
		-o log_level=debug "$@" "$MNT" >>"$RPFS_LOG" 2>&1 &
	RPFS_PID=$!
	wait_for 100 mountpoint -q "$MNT" || fail "rpfs did not mount"
}
