#!/bin/sh
# A cross-region copy that is replicating: `progress` is fresh at every
# read, rises as armsim's clock advances and ends at "total 100 Succeeded";
# its st_size is the length of the last content read.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/fs_lib.sh"

start_armsim --demo
mount_rpfs
P=$MNT/westus2/rg-prod/rpc-vm-web-01-westus2/rp-20261118-0200/progress
test -f "$P" || fail "no progress file"
expect_eq "size before the first read" 0 "$(stat -c %s "$P")"
first=$(cat "$P") || fail "cannot read progress"
log "progress: $(echo "$first" | tail -1)"
expect_eq "size after a read" "$(printf '%s\n' "$first" | wc -c)" "$(stat -c %s "$P")"
t1=$(echo "$first" | awk '$1 == "total" { print $2 }')
[ -n "$t1" ] && [ "$t1" -lt 100 ] || fail "the copy is not replicating: $first"
lines=$(echo "$first" | wc -l)
expect_eq "lines (3 disks + total)" 4 "$lines"

sim POST /_armsim/clock '{"advance":10}' >/dev/null || fail "clock"
second=$(cat "$P")
t2=$(echo "$second" | awk '$1 == "total" { print $2 }')
[ "$t2" -gt "$t1" ] || fail "progress did not rise: $t1 then $t2"
sim POST /_armsim/clock '{"advance":3600}' >/dev/null || fail "clock"
last=$(tail -1 "$P")
expect_eq "progress at the end" "total 100 Succeeded" "$last"
pass
