#!/bin/sh
# Every C source and header of src/ is laid out as the checked-in
# .clang-format says (run `clang-format -i src/*.[ch]` before committing).
. "$TESTS_SRCDIR/lib.sh"
command -v clang-format >/dev/null 2>&1 || skip "clang-format not installed"
top=$TESTS_SRCDIR/..
[ -f "$top/.clang-format" ] || fail ".clang-format missing"
n=0
bad=
for f in "$top"/src/*.c "$top"/src/*.h; do
	n=$((n + 1))
	(cd "$top" && clang-format --style=file "src/${f##*/}") | cmp -s - "$f" ||
		bad="$bad src/${f##*/}"
done
[ "$n" -ge 40 ] || fail "only $n files under src/"
[ -z "$bad" ] || fail "not formatted as .clang-format says:$bad"
pass
