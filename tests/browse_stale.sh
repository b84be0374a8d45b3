#!/bin/sh
# Staleness on purpose: a point added or removed behind rpfs's back is not
# seen before ttl and is seen after it; .rpfs/flush and SIGHUP make a
# change visible at once.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/fs_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=3,neg_ttl=1,busy_ttl=1
C=$MNT/eastus/rg-prod/rpc-vm-web-01
CID=$(cat "$C/id") || fail "cannot read the collection id"
ls "$C" >/dev/null || fail "ls"

sim POST /_armsim/mutate "{\"op\":\"add_point\",\"collection\":\"$CID\",\"name\":\"rp-oob-1\"}" >/dev/null ||
	fail "mutate add_point"
ls "$C" | grep -q rp-oob-1 && fail "a new point is seen before ttl"
test -d "$C/rp-oob-1" && fail "a new point is found before ttl"
sleep 5
ls "$C" | grep -q rp-oob-1 || fail "a new point is not listed after ttl"
test -d "$C/rp-oob-1" || fail "a new point is not found after ttl"

old=$(ls "$C" | grep '^rp-2026' | head -1)
sim POST /_armsim/mutate "{\"op\":\"remove_point\",\"id\":\"$CID/restorePoints/$old\"}" >/dev/null ||
	fail "mutate remove_point"
sleep 5
ls "$C" | grep -q "$old" && fail "a removed point is still listed after ttl"
test -e "$C/$old" && fail "a removed point is still found after ttl"

umount_rpfs
mount_rpfs -o ttl=600
ls -R "$MNT/eastus" >/dev/null || fail "ls"
sim POST /_armsim/mutate "{\"op\":\"add_point\",\"collection\":\"$CID\",\"name\":\"rp-oob-2\"}" >/dev/null ||
	fail "mutate add_point"
ls "$C" | grep -q rp-oob-2 && fail "a new point is seen at once with ttl=600"
echo 1 >"$MNT/.rpfs/flush" || fail "cannot write .rpfs/flush"
ls "$C" | grep -q rp-oob-2 || fail "a new point is not listed after .rpfs/flush"
test -d "$C/rp-oob-2" || fail "a new point is not found after .rpfs/flush"

sim POST /_armsim/mutate "{\"op\":\"add_point\",\"collection\":\"$CID\",\"name\":\"rp-oob-3\"}" >/dev/null ||
	fail "mutate add_point"
ls "$C" | grep -q rp-oob-3 && fail "a new point is seen at once with ttl=600"
kill -HUP "$RPFS_PID"
wait_for 30 sh -c "ls '$C' | grep -q rp-oob-3" || fail "a new point is not listed after SIGHUP"
mountpoint -q "$MNT" || fail "SIGHUP ended the daemon"
pass
