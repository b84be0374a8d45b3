#!/bin/sh
# tests/tsan.sh - the concurrency tests in a ThreadSanitizer build.
#
#   tests/tsan.sh [BUILDDIR]      (default: a new directory under /tmp)
#
# Configures the source tree this script belongs to out of tree with
# --enable-tsan, builds it, and runs the tests that exercise rpfs's threads
# (rel_concurrency.sh, browse_concurrent.sh, rel_throttle.sh, rel_tokens.sh,
# sys_loop.sh)
# through make check.  A ThreadSanitizer report in the daemon's log fails
# the test (tests/lib.sh looks for "SUMMARY: ThreadSanitizer").  Set
# TSAN_TESTS to run other tests.  Exit status: make check's.
set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$(mktemp -d "${TMPDIR:-/tmp}/rpfs-tsan.XXXXXX")}
tests=${TSAN_TESTS:-rel_concurrency.sh browse_concurrent.sh rel_throttle.sh rel_tokens.sh sys_loop.sh}
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$srcdir/configure" -q --enable-tsan
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
# second_deadlock_stack: better reports; halt_on_error=0: see every race
export TSAN_OPTIONS="${TSAN_OPTIONS:-second_deadlock_stack=1:halt_on_error=0:history_size=4}"
echo "tsan: build in $build; tests: $tests"
status=0
make -C tests check TESTS="$tests" || status=$?
for t in $tests; do
	grep -h -A30 'WARNING: ThreadSanitizer' "tests/${t%.sh}.log" 2>/dev/null | head -60 || true
done
exit $status
