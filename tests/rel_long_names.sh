#!/bin/sh
# Every name ARM allows (up to 260 characters) passes the kernel: mkdir of
# 256- and 260-character names (ASCII, and 260 two-byte characters) makes
# directories that ls and stat see; 261 characters is EINVAL (ARM's rule,
# checked before any request); statfs reports a name limit that fits them.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
mount_rpfs
D=$MNT/westus2/rg-prod
ls "$D" >/dev/null || fail "listing $D"

# name N [CHAR]: N times CHAR (default n).
name() { python3 -c 'import sys; print(sys.argv[2] * int(sys.argv[1]))' "$1" "${2:-n}"; }

clear_log
for spec in "256 a" "260 b" "260 é"; do
	set -- $spec
	n=$(name "$1" "$2")
	mkdir "$D/$n" || fail "mkdir of a $1-character name ($2)"
	stat "$D/$n" >/dev/null || fail "stat of a $1-character name ($2)"
	ls "$D" | grep -qx "$n" || fail "ls does not show the $1-character name ($2)"
	expect_eq "state of the $1-character name ($2)" pending "$(cat "$D/$n/state")"
done
expect_errno EINVAL mkdir "$D/$(name 261 c)"
expect_eq "ARM requests for pending directories and a refused name" 0 \
	"$(sim GET /_armsim/stats | jq .total)"
max=$(python3 -c 'import os, sys; print(os.statvfs(sys.argv[1]).f_namemax)' "$MNT")
[ "$max" -ge 520 ] || fail "statfs says names have at most $max bytes"
pass
