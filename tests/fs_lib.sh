# tests/fs_lib.sh - helpers of the browse_*.sh mounted tests (after lib.sh).

command -v python3 >/dev/null || skip "python3 is needed to compare the mount with armsim"

# fs_check ARGS...: the comparison tool (see fs_check.py).
fs_check() {
	python3 "$TESTS_SRCDIR/fs_check.py" "$@"
}

# fs_state FILE: armsim's whole model.
fs_state() {
	sim GET /_armsim/state >"$1" || fail "cannot read /_armsim/state"
}

# fs_total: number of ARM requests armsim has served.
fs_total() {
	sim GET /_armsim/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])'
}

# fs_ncoll FILE: number of collections in a state document.
fs_ncoll() {
	python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["collections"]))' "$1"
}

# fs_expect_cold_economy NCOLL: armsim's counters equal 2 + pages + NCOLL
fs_expect_cold_economy() {
	sim GET /_armsim/stats >"$WORKDIR/stats.json" || fail "cannot read /_armsim/stats"
	set -- $(fs_check economy "$WORKDIR/stats.json" "$1")
	log "cold walk: $1 requests (2 + $3 pages + collections = $2)"
	expect_eq "requests of a cold ls -lR" "$2" "$1"
}

# fs_mtime PATH: modification time in seconds.
fs_mtime() {
	stat -c %Y "$1"
}
