#!/bin/sh
# Every fuzz target (tests/fuzz/fuzz_*.c), built here by the normal compiler
# with replay.c, runs over its regression inputs (tests/fuzz/regress/TARGET:
# crashes found once, and inputs made to hit the edges) and over its seed
# corpus made from tests/fixtures: no crash, no broken invariant, no
# sanitizer report.
. "$TESTS_SRCDIR/lib.sh"

for t in json id tags; do
	bin=$PWD/fuzz_${t}_replay
	[ -x "$bin" ] || fail "fuzz_${t}_replay not built"
	sh "$TESTS_SRCDIR/fuzz/run.sh" --seed "$t" "$WORKDIR/seed_$t" || fail "cannot make the $t seeds"
	"$bin" "$TESTS_SRCDIR/fuzz/regress/$t" "$WORKDIR/seed_$t" >"$WORKDIR/replay_$t.out" 2>&1 ||
		fail "fuzz_$t: replay failed: $(tail -20 "$WORKDIR/replay_$t.out")"
	log "$(cat "$WORKDIR/replay_$t.out")"
	if grep -Eq 'invariant broken|runtime error|Sanitizer' "$WORKDIR/replay_$t.out"; then
		fail "fuzz_$t: $(grep -E -A10 'invariant|runtime error|Sanitizer' "$WORKDIR/replay_$t.out" | head -20)"
	fi
done
pass
