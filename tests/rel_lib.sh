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
	# the size of progress (and of a Failed point's error) is that of its
	# last read: leave them out
	sed -E '/ (progress|error)$/d' "$out.ls" >>"$out"
	# disks' bytes (NAME.vhd, hundreds of GiB) are the disk_*.sh tests' business
	(cd "$m" && find . -path ./.rpfs -prune -o -type f ! -name '*.vhd' -print) 2>>"$out.err" |
		LC_ALL=C sort >"$out.files" ||
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

# ok_within MS DESC CMD...: CMD must succeed within MS milliseconds.
ok_within() {
	local limit=$1 desc=$2
	shift 2
	elapsed_ms "$@"
	[ "$REL_RC" = 0 ] || fail "$desc failed: $REL_OUT"
	[ "$REL_MS" -le "$limit" ] || fail "$desc took $REL_MS ms (limit $limit ms)"
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

# rel_seed FILE NCOLL NPOINTS: an armsim seed of NCOLL collections
# (rpc-src-0..) of NPOINTS Succeeded points each, in eastus/rg-src, plus
# one in westus2/rg-dst, so that rg-dst exists as a copy target.
rel_seed() {
	python3 - "$@" <<'PY' || fail "cannot write the seed"
import json, sys
out, nc, npt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
sub = "8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20"
vm = "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.Compute/virtualMachines/%s"
cols = [{"name": "rpc-src-%d" % i, "resourceGroup": "rg-src", "location": "eastus",
         "source": {"id": vm % (sub, "rg-src", "vm-%d" % i)},
         "points": [{"name": "rp-%02d" % j} for j in range(npt)]} for i in range(nc)]
cols.append({"name": "rpc-anchor", "resourceGroup": "rg-dst", "location": "westus2",
             "source": {"id": vm % (sub, "rg-dst", "vm-anchor")}, "points": [{"name": "rp-a"}]})
json.dump({"subscription": sub, "collections": cols}, open(out, "w"))
PY
}

# rel_cp_ok NAME: rpc-src-NAME was copied to westus2/rg-dst/NAME with
# exactly one PUT that created (201) each point and the collection, and the
# copy lists the source's points, each with its source.  A PUT whose answer
# was lost (truncated, malformed) is retried and meets its own copy (200,
# a rerun's success, no second copy): those are counted, not refused.
# Sets REL_PUTS (resources created) and REL_DUP (such 200 answers).
rel_cp_ok() {
	local n=$1 src dst got want p c201 c2xx
	src=/subscriptions/$DEMO_SUB/resourceGroups/rg-src/providers/Microsoft.Compute/restorePointCollections/$n
	dst=/subscriptions/$DEMO_SUB/resourceGroups/rg-dst/providers/Microsoft.Compute/restorePointCollections/$n
	simlog "select(.method == \"PUT\" and (.path | startswith(\"$dst\"))) | \"\\(.status) \\(.path)\"" |
		tr -d '"' >"$WORKDIR/puts.$n"
	REL_PUTS=0
	REL_DUP=0
	want=$(ls "$MNT/eastus/rg-src/$n" | grep '^rp-')
	got=$(ls "$MNT/westus2/rg-dst/$n" | grep '^rp-')
	[ "$got" = "$want" ] || fail "$n: the copy lists $(echo $got | wc -w) points, not the source's $(echo $want | wc -w)"
	for p in "" $want; do
		if [ -n "$p" ]; then p=$dst/restorePoints/$p; else p=$dst; fi
		c201=$(grep -c "^201 $p\$" "$WORKDIR/puts.$n")
		c2xx=$(grep -c "^2[0-9][0-9] $p\$" "$WORKDIR/puts.$n")
		[ "$c201" = 1 ] || fail "$n: $c201 PUTs created $p (one expected): $(grep " $p\$" "$WORKDIR/puts.$n" | tr '\n' ' ')"
		REL_DUP=$((REL_DUP + c2xx - 1))
		REL_PUTS=$((REL_PUTS + 1))
	done
	for p in $want; do
		got=$(cat "$MNT/westus2/rg-dst/$n/$p/source") || fail "$n/$p: no source"
		[ "$got" = "$src/restorePoints/$p" ] || fail "$n/$p: source $got"
	done
}

# rel_rule KIND PROBABILITY SEED [LATENCY_MS]: the armsim fault rule of a
# fault-matrix row (every ARM route, PUTs included).
rel_rule() {
	local p=$2 s=$3
	case $1 in
	s503) echo "{\"kind\":\"status\",\"status\":503,\"retry_after\":0,\"probability\":$p,\"seed\":$s}" ;;
	s500) echo "{\"kind\":\"status\",\"status\":500,\"probability\":$p,\"seed\":$s}" ;;
	throttle) echo "{\"kind\":\"throttle\",\"retry_after\":1,\"probability\":$p,\"seed\":$s}" ;;
	latency) echo "{\"kind\":\"latency\",\"latency_ms\":${4:-150},\"probability\":$p,\"seed\":$s}" ;;
	*) echo "{\"kind\":\"$1\",\"probability\":$p,\"seed\":$s}" ;;
	esac
}

# rel_cp_faults KIND...: on a mounted rpfs over a rel_seed armsim, for
# each kind at 30% of requests, cp -r of rpc-src-I (I = 0, 1, ...) to
# westus2/rg-dst/ completes (a cp that fails after rpfs's retries is rerun,
# at most twice) and rel_cp_ok holds.  Logs the figures.
rel_cp_faults() {
	local i=0 k tries t0 reruns=0 dups=0 puts=0
	for k in "$@"; do
		ls "$MNT/eastus/rg-src/rpc-src-$i" >/dev/null || fail "$k: source not listed"
		ls "$MNT/westus2/rg-dst" >/dev/null || fail "$k: target not listed"
		clear_log
		fault "$(rel_rule "$k" 0.3 $((i + 11)))"
		t0=$(date +%s)
		tries=1
		until timeout 120 cp -r "$MNT/eastus/rg-src/rpc-src-$i" "$MNT/westus2/rg-dst/" \
			2>"$WORKDIR/cp.$k.err"; do
			log "$k: cp -r failed (try $tries): $(head -3 "$WORKDIR/cp.$k.err")"
			[ "$tries" -lt 3 ] || fail "$k at 30%: cp -r failed $tries times"
			tries=$((tries + 1))
			reruns=$((reruns + 1))
		done
		clear_faults
		n=$(simlog 'select(.method == "PUT")' | wc -l)
		[ "$k" != throttle ] || rel_no_request_in_window
		rel_cp_ok "rpc-src-$i"
		log "$k at 30%: cp -r of 20 points in $(( $(date +%s) - t0 )) s, $tries run(s), $n PUTs sent, $REL_PUTS accepted once, $REL_DUP retried PUTs that met their own copy"
		dups=$((dups + REL_DUP))
		puts=$((puts + REL_PUTS))
		i=$((i + 1))
	done
	log "FIGURE cp -r under faults at 30% ($*): $puts resources created exactly once, 0 lost, $reruns cp reruns, $dups retried PUTs answered 2xx by their own copy"
}

# rel_no_request_in_window: no request in armsim's log arrived within 1 s
# (the Retry-After of rel_rule's throttle) after a 429, but for those in
# flight when it was answered (30 ms of grace).  Sets REL_INSIDE (0) and
# REL_N429.
rel_no_request_in_window() {
	sim GET /_armsim/log >"$WORKDIR/window.jsonl" || fail "cannot read the log"
	python3 - "$WORKDIR/window.jsonl" >"$WORKDIR/window.txt" <<'PY' ||
import json, sys
log = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t429 = [e["t_ms"] for e in log if e["status"] == 429]
bad = [e for e in log for t in t429 if t + 30 < e["t_ms"] < t + 1000]
print(len(t429), len(bad))
for e in bad[:5]:
    print("  inside a window:", e["t_ms"], e["method"], e["path"])
sys.exit(1 if bad else 0)
PY
		fail "requests inside a Retry-After window: $(cat "$WORKDIR/window.txt")"
	read -r REL_N429 REL_INSIDE <"$WORKDIR/window.txt"
	log "throttle: $REL_N429 answers 429, $REL_INSIDE requests inside a Retry-After window"
}

# rel_cp_rerun KIND I: with retries=0, KIND at 30% makes cp -r of
# rpc-src-I fail; rerun until it completes (at most 15 runs): still one
# creating PUT per resource.
rel_cp_rerun() {
	local k=$1 i=$2 tries=1
	ls "$MNT/eastus/rg-src/rpc-src-$i" >/dev/null || fail "source not listed"
	clear_log
	fault "$(rel_rule "$k" 0.3 $((i + 31)))"
	until timeout 120 cp -r "$MNT/eastus/rg-src/rpc-src-$i" "$MNT/westus2/rg-dst/" \
		2>"$WORKDIR/cp.rerun.err"; do
		[ "$tries" -lt 15 ] || fail "$k without retries: cp -r failed $tries times: $(head -2 "$WORKDIR/cp.rerun.err")"
		tries=$((tries + 1))
	done
	clear_faults
	[ "$tries" -gt 1 ] || log "$k without retries: cp -r never failed (no rerun exercised)"
	rel_cp_ok "rpc-src-$i"
	log "FIGURE $k at 30% with retries=0: cp -r completed on run $tries, $REL_PUTS resources each created by one PUT, $REL_DUP retried PUTs met their own copy"
}

# rel_mixed_load T_END: start three workers on $MNT until the epoch second
# T_END (walks after flushes; cat of the first progress files; cat of ids
# and states and a stat storm); their pids go to REL_PIDS, the rounds each
# made to $WORKDIR/rounds.N, a failure to $WORKDIR/w.N.err.
rel_mixed_load() {
	local t_end=$1 w P
	P=$(cd "$MNT" && find . -name progress | head -3)
	REL_PIDS=
	for w in 1 2 3; do
		(
			n=0
			while [ "$(date +%s)" -lt "$t_end" ]; do
				case $w in
				1) echo 1 >"$MNT/.rpfs/flush" && timeout 60 ls -lR "$MNT" >/dev/null ;;
				2) for p in $P; do timeout 30 cat "$MNT/$p" >/dev/null || exit 1; done ;;
				3) timeout 30 cat "$MNT"/eastus/*/*/id "$MNT"/eastus/*/*/*/state >/dev/null &&
					timeout 30 stat "$MNT"/westus2/*/* >/dev/null ;;
				esac || { echo "round $n of worker $w failed" >&2; exit 1; }
				n=$((n + 1))
				sleep 0.2
			done
			echo "$n" >"$WORKDIR/rounds.$w"
		) 2>"$WORKDIR/w.$w.err" &
		REL_PIDS="$REL_PIDS $!"
	done
}
