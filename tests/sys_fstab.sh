#!/bin/sh
# An fstab line of type fuse.rpfs mounts and unmounts (mount -T with a
# temporary fstab), fstab-only words are ignored, and contrib/mount.rpfs
# runs rpfs the way mount(8) calls a helper; bad options fail before the
# daemon detaches.
. "$TESTS_SRCDIR/lib.sh"
need_fuse
command -v mount >/dev/null || skip "no mount(8)"
[ -x /sbin/mount.fuse3 ] || [ -x /usr/sbin/mount.fuse3 ] || skip "no mount.fuse3"
start_armsim --demo
printf 'rpfs-test-token\n' >"$WORKDIR/token"
MNT=$WORKDIR/mnt
mkdir -p "$MNT"
# mount(8) runs helpers with a fixed PATH that starts with /usr/local/sbin:
# put this build's rpfs there for the test, and put back what was there.
helper=/usr/local/sbin/rpfs
[ -w /usr/local/sbin ] || skip "cannot write /usr/local/sbin (not root?)"
if [ -e "$helper" ] || [ -L "$helper" ]; then
	mv "$helper" "$WORKDIR/rpfs.saved" || fail "cannot move $helper aside"
	at_exit "rm -f '$helper'; mv '$WORKDIR/rpfs.saved' '$helper'"
else
	at_exit "rm -f '$helper'"
fi
ln -s "$RPFS" "$helper" || fail "cannot link $helper"

opts="endpoint=$ARMSIM_URL,token_file=$WORKDIR/token,subscription=$DEMO_SUB"
printf 'rpfs %s fuse.rpfs %s,_netdev,nofail,noauto,user 0 0\n' "$MNT" "$opts" >"$WORKDIR/fstab"
out=$(mount -T "$WORKDIR/fstab" "$MNT" 2>&1) || fail "mount -T failed: $out"
mountpoint -q "$MNT" || fail "fstab mount is not mounted"
grep -q " $MNT fuse.rpfs " /proc/mounts || fail "type is not fuse.rpfs: $(grep " $MNT " /proc/mounts)"
[ -f "$MNT/eastus/rg-prod/rpc-vm-web-01/id" ] || fail "no demo data through the fstab mount"
umount "$MNT" || fail "umount failed"
mountpoint -q "$MNT" && fail "still mounted after umount"

# A bad option in fstab: mount fails with rpfs's message, nothing mounted.
printf 'rpfs %s fuse.rpfs %s,ttl=never 0 0\n' "$MNT" "$opts" >"$WORKDIR/fstab.bad"
if out=$(mount -T "$WORKDIR/fstab.bad" "$MNT" 2>&1); then
	fail "mount with a bad option succeeded"
fi
echo "$out" | grep -q "option 'ttl'" || fail "mount's error lacks rpfs's message: $out"
mountpoint -q "$MNT" && fail "bad fstab line left a mount"

# The README's line: the device rpfs:SUBSCRIPTION-ID names the
# subscription, and works from a directory that holds a folder "rpfs"
# (a device field that looks like a path would be made absolute).
mkdir -p "$WORKDIR/cwd/rpfs"
opts2="endpoint=$ARMSIM_URL,token_file=$WORKDIR/token"
printf 'rpfs:%s %s fuse.rpfs %s,_netdev,allow_other 0 0\n' "$DEMO_SUB" "$MNT" "$opts2" >"$WORKDIR/fstab.dev"
out=$(cd "$WORKDIR/cwd" && mount -T "$WORKDIR/fstab.dev" "$MNT" 2>&1) || fail "mount -T with rpfs:ID failed: $out"
mountpoint -q "$MNT" || fail "the rpfs:ID line is not mounted"
grep -q "^subscription=$DEMO_SUB" "$MNT/.rpfs/config" || fail "subscription not from the device: $(cat "$MNT/.rpfs/config")"
[ -f "$MNT/eastus/rg-prod/rpc-vm-web-01/id" ] || fail "no demo data through the rpfs:ID line"
umount "$MNT" || fail "umount of the rpfs:ID mount failed"
# A device naming another subscription than subscription=: refused.
printf 'rpfs:%s %s fuse.rpfs %s,subscription=%s 0 0\n' "$DEMO_SUB" "$MNT" "$opts2" \
	00000000-0000-0000-0000-000000000001 >"$WORKDIR/fstab.two"
out=$(mount -T "$WORKDIR/fstab.two" "$MNT" 2>&1) && fail "two subscriptions mounted"
echo "$out" | grep -q "names another subscription" || fail "two subscriptions: $out"
mountpoint -q "$MNT" && fail "two subscriptions left a mount"

# The helper itself, called as mount(8) calls mount.TYPE helpers.
RPFS_BIN=$RPFS sh "$TESTS_SRCDIR/../contrib/mount.rpfs" rpfs "$MNT" -o "$opts,_netdev" ||
	fail "mount.rpfs failed"
mountpoint -q "$MNT" || fail "mount.rpfs did not mount"
[ -f "$MNT/eastus/rg-prod/rpc-vm-web-01/id" ] || fail "no demo data through mount.rpfs"
fusermount3 -u "$MNT" || fail "unmount after mount.rpfs failed"
RPFS_BIN=$RPFS sh "$TESTS_SRCDIR/../contrib/mount.rpfs" "rpfs:$DEMO_SUB" "$MNT" -o "$opts2" ||
	fail "mount.rpfs rpfs:ID failed"
mountpoint -q "$MNT" || fail "mount.rpfs rpfs:ID did not mount"
fusermount3 -u "$MNT" || fail "unmount after mount.rpfs rpfs:ID failed"
pass
