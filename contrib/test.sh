#!/bin/sh
# contrib/test.sh - install dependencies, build rpfs and armsim with
# sanitizers, and run the whole test suite (unit and mounted tests).
# This is the README's test command and what CI runs.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

sh contrib/deps.sh
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q --enable-sanitizers --enable-werror
make -s -j2
make -j2 check
