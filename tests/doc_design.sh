#!/bin/sh
# doc/DESIGN.md's module map matches the tree: every C file of src/ and
# contrib/armsim/ has a row, every row names a file that exists, and each
# row's line count is within a fifth of the file's (update the map when a
# file grows or shrinks by more).
. "$TESTS_SRCDIR/lib.sh"
top=$TESTS_SRCDIR/..
map=$top/doc/DESIGN.md
[ -f "$map" ] || fail "doc/DESIGN.md missing"
rows=$(sed -n 's/^| \(src\/[a-z_0-9]*\.c\|contrib\/armsim\/[a-z_0-9]*\.c\) | \([0-9]*\) |.*/\1 \2/p' "$map")
[ -n "$rows" ] || fail "no module rows in doc/DESIGN.md"
for f in "$top"/src/*.c "$top"/contrib/armsim/*.c; do
	rel=${f#"$top"/}
	echo "$rows" | grep -q "^$rel " || fail "doc/DESIGN.md has no row for $rel"
done
echo "$rows" | while read -r rel n; do
	[ -f "$top/$rel" ] || fail "doc/DESIGN.md lists $rel, which does not exist"
	real=$(wc -l <"$top/$rel")
	if [ $((real * 5)) -gt $((n * 6)) ] || [ $((real * 5)) -lt $((n * 4)) ]; then
		fail "doc/DESIGN.md says $rel has $n lines; it has $real"
	fi
done || exit $?
pass
