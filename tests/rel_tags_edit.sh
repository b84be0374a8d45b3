#!/bin/sh
# The tags file edits like any file: `>>` appends a tag and keeps the
# others, a pwrite in the middle changes only the bytes it covers, and a
# write after O_TRUNC (or ftruncate) replaces the tags.  Each sends one
# PATCH carrying the text as it is after the edit.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=60
V=rpc-vm-web-01
T=$MNT/eastus/rg-prod/$V/tags

# tags_now: the tags as rpfs shows them, sorted.
tags_now() { LC_ALL=C sort "$T"; }

printf 'env=test\nowner=me\n' >"$T" || fail "write tags"
expect_eq "tags after a write" "env=test
owner=me" "$(tags_now)"

mut_clear
echo backup=daily >>"$T" || fail "append to tags"
mut_expect_writes "an append to tags" \
	"PATCH $(mut_rpc rg-prod $V) {\"tags\":{\"backup\":\"daily\",\"env\":\"test\",\"owner\":\"me\"}}"
expect_eq "tags after an append" "backup=daily
env=test
owner=me" "$(tags_now)"

mut_clear
python3 - "$T" <<'PY' || fail "pwrite into tags"
import os, sys
text = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"prod", text.index(b"env=test") + 4)
os.close(fd)
PY
mut_expect_writes "a pwrite in the middle of tags" \
	"PATCH $(mut_rpc rg-prod $V) {\"tags\":{\"backup\":\"daily\",\"env\":\"prod\",\"owner\":\"me\"}}"
expect_eq "tags after a pwrite" "backup=daily
env=prod
owner=me" "$(tags_now)"

mut_clear
printf 'only=one\n' >"$T" || fail "rewrite tags"
mut_expect_writes "a write with O_TRUNC" \
	"PATCH $(mut_rpc rg-prod $V) {\"tags\":{\"only\":\"one\"}}"
expect_eq "tags after O_TRUNC and a write" "only=one" "$(tags_now)"

mut_clear
python3 - "$T" <<'PY' || fail "ftruncate and write tags"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.ftruncate(fd, 0)
os.write(fd, b"x=y\n")
os.close(fd)
PY
mut_expect_writes "ftruncate then a write" \
	"PATCH $(mut_rpc rg-prod $V) {\"tags\":{\"x\":\"y\"}}"
expect_eq "tags after ftruncate and a write" "x=y" "$(tags_now)"

# An open for writing that writes nothing changes nothing.
mut_clear
python3 -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_WRONLY))' "$T" || fail "open tags"
mut_no_writes "an open of tags without a write"
pass
