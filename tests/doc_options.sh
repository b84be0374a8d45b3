#!/bin/sh
# Every option that `rpfs --help` lists (generated from the option table)
# is described in the man page rpfs(1) and in the README, so they cannot drift.
. "$TESTS_SRCDIR/lib.sh"
[ -x "$RPFS" ] || skip "rpfs not built"
top=$TESTS_SRCDIR/..
names=$("$RPFS" --help | sed -n 's/^ *-o \([a-z_]*\).*/\1/p')
[ -n "$names" ] || fail "rpfs --help lists no -o option"
n=0
for name in $names; do
	n=$((n + 1))
	grep -q -- "-o $name" "$top/doc/rpfs.1" || grep -q -- "\\\\-o $name" "$top/doc/rpfs.1" ||
		fail "doc/rpfs.1 does not describe -o $name"
	grep -q "\`$name" "$top/README" || fail "README does not describe option $name"
done
[ "$n" -ge 29 ] || fail "only $n options in --help"
if command -v man >/dev/null 2>&1; then
	out=$(MANWIDTH=80 man -l "$top/doc/rpfs.1" 2>&1) || fail "man -l doc/rpfs.1 failed: $out"
	for name in $names; do
		echo "$out" | grep -q -- "-o $name" || fail "rendered rpfs(1) lacks -o $name"
	done
fi
pass
