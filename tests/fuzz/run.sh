#!/bin/sh
# tests/fuzz/run.sh - build the libFuzzer targets with clang and run each
# for a bounded time.
#
#   tests/fuzz/run.sh [BUILDDIR]       (BUILDDIR holds config.h; default .)
#   tests/fuzz/run.sh --seed TARGET DIR   only write TARGET's seed corpus to DIR
#                                         (the replay test uses it)
#   FUZZ_SECONDS=20   time per target
#   FUZZ_TARGETS="json id tags"        which targets
#   FUZZ_OUT=DIR      where binaries, corpora and crashes go (default
#                     BUILDDIR/fuzz-out)
#
# Seed corpora come from the project's own fixtures (tests/fixtures/arm/*.json
# for the JSON model; ids, names and tag objects taken out of them for the
# others) plus the regression inputs in tests/fuzz/regress/TARGET/.  A crash
# leaves its input in FUZZ_OUT/TARGET/crash-*: fix the code, then copy the
# input to tests/fuzz/regress/TARGET/ so make check replays it for ever
# (tests/rel_fuzz_regress.sh).  Exit status: 0 when no target crashed, 1
# when one did, 77 when clang or libFuzzer is missing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
mode=fuzz
if [ "${1:-}" = --seed ]; then
	mode=seed seed_target=$2 seed_dir=$3
	set --
fi
build=$(cd "${1:-.}" && pwd)
secs=${FUZZ_SECONDS:-20}
targets=${FUZZ_TARGETS:-json id tags}
out=${FUZZ_OUT:-$build/fuzz-out}
CC=${FUZZ_CC:-clang}

[ "$mode" = seed ] || command -v "$CC" >/dev/null || { echo "run.sh: $CC not found" >&2; exit 77; }
[ "$mode" = seed ] || [ -f "$build/config.h" ] || { echo "run.sh: no config.h in $build (give the build dir)" >&2; exit 2; }
cflags="-g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 -I$build -I$top/src -I$here $(pkg-config --cflags json-c libcurl fuse3)"
libs="$(pkg-config --libs json-c libcurl fuse3) -lpthread -lm"
# Everything in src/ but main(): what the targets call, and what it links.
srcs=""
for f in "$top"/src/*.c; do
	case $f in */main.c) ;; *) srcs="$srcs $f" ;; esac
done
if [ "$mode" = fuzz ]; then
	mkdir -p "$out"
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
		>"$out/probe.c"
	if ! $CC -fsanitize=fuzzer -o "$out/probe" "$out/probe.c" 2>/dev/null; then
		echo "run.sh: $CC cannot link -fsanitize=fuzzer (libFuzzer missing)" >&2
		exit 77
	fi
fi

# seed_TARGET DIR: fill a seed corpus from the fixtures.
seed() {
	local t=$1 d=$2
	mkdir -p "$d"
	case $t in
	json)
		cp "$top"/tests/fixtures/arm/*.json "$d/" ;;
	id)
		# every "id" value and every name in the fixtures, one per file
		cat "$top"/tests/fixtures/arm/*.json |
			grep -oE '"(id|name|sourceRestorePoint|timeCreated|nextLink)" *: *"[^"]*"' |
			sed -E 's/^"[^"]*" *: *"//; s/"$//' | sort -u |
			awk -v d="$d" '{ f = sprintf("%s/fx%04d", d, NR); printf "%s", $0 > f; close(f) }'
		printf 'https://management.azure.com\nhttps://management.azure.com:443/x' >"$d/origin1"
		printf 'rp-%%2F..%%3F#x' >"$d/name1" ;;
	tags)
		# the tags objects of the fixtures (one line each in these files)
		cat "$top"/tests/fixtures/arm/*.json | tr -d '\n' |
			grep -oE '"tags" *: *\{[^{}]*\}' | sed -E 's/^"tags" *: *//' | sort -u |
			awk -v d="$d" '{ f = sprintf("%s/fx%04d", d, NR); printf "%s", $0 > f; close(f) }'
		printf '{}' >"$d/empty"
		printf '{"a":"1","B":"","k=v":"x\\ny"}' >"$d/mixed" ;;
	esac
	if [ -d "$here/regress/$t" ]; then
		cp "$here/regress/$t"/* "$d/" 2>/dev/null || true
	fi
}

if [ "$mode" = seed ]; then
	seed "$seed_target" "$seed_dir"
	exit 0
fi

rc=0
for t in $targets; do
	echo "== fuzz_$t: building"
	if ! $CC $cflags -o "$out/fuzz_$t" "$here/fuzz_$t.c" $srcs $libs 2>"$out/fuzz_$t.build.log"; then
		echo "run.sh: building fuzz_$t failed:" >&2
		tail -20 "$out/fuzz_$t.build.log" >&2
		rc=1
		continue
	fi
	seed "$t" "$out/seed_$t"
	mkdir -p "$out/corpus_$t" "$out/$t"
	echo "== fuzz_$t: $secs s ($(ls "$out/seed_$t" | wc -l) seeds)"
	( cd "$out/$t" &&
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$out/fuzz_$t" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 "$out/corpus_$t" "$out/seed_$t" >"$out/fuzz_$t.log" 2>&1 )
	st=$?
	grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$out/fuzz_$t.log" | tail -2
	if [ $st -ne 0 ] || ls "$out/$t"/crash-* "$out/$t"/leak-* "$out/$t"/timeout-* >/dev/null 2>&1; then
		echo "run.sh: fuzz_$t found a problem (exit $st); inputs in $out/$t:" >&2
		ls "$out/$t" >&2
		grep -E -A15 'ERROR|invariant|runtime error' "$out/fuzz_$t.log" | head -40 >&2
		rc=1
	fi
done
exit $rc
