#!/bin/sh
# contrib/test.sh - install dependencies, build rpfs and armsim with
# sanitizers (ASan+UBSan) in build-check/, and run the whole test suite
# (unit and mounted tests).  This is the README's test command and what CI
# runs.  build-check/ is its own: the demo's plain build in build/ is never
# tested by mistake, and a build-check/ configured with other flags is
# configured again.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bdir=build-check
flags="--enable-sanitizers --enable-werror"

sh contrib/deps.sh
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
if [ -f "$bdir/Makefile" ] &&
	[ "$("$bdir/config.status" --config 2>/dev/null | tr -d "'")" != "$flags" ]; then
	# Objects built with other flags would not be rebuilt: start afresh.
	echo "$bdir/ was configured with other flags: configuring it again"
	rm -rf "$bdir"
fi
mkdir -p "$bdir"
cd "$bdir"
if [ ! -f Makefile ]; then
	# shellcheck disable=SC2086
	../configure -q $flags
fi
echo "testing the ASan+UBSan build in $bdir/"
make -s -j2
make -j2 check
