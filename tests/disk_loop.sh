#!/bin/sh
# Getting one file back out of a restore point: a data disk that holds an
# ext4 filesystem (an image made here, served by armsim --disk-image) is
# loop-mounted read-only from its .vhd, and `cp` takes a file out of it,
# byte for byte.  Needs root and a free loop device.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
. "$TESTS_SRCDIR/disk_lib.sh"

[ "$(id -u)" = 0 ] || skip "loop mounts need root"
command -v mke2fs >/dev/null || skip "mke2fs not installed"
command -v losetup >/dev/null || skip "losetup not installed"
losetup -f >/dev/null 2>&1 || skip "no free loop device (losetup -f failed)"

src=$WORKDIR/src
mkdir -p "$src/etc/app" "$src/var/lib/db"
printf 'listen = 0.0.0.0:8080\nworkers = 4\n' >"$src/etc/app/app.conf"
head -c 3000000 /dev/urandom >"$src/var/lib/db/table.dat"
mke2fs -q -t ext4 -d "$src" "$WORKDIR/data.img" 64M || fail "mke2fs failed"

start_disk_armsim --disk-image "vm-a-data=$WORKDIR/data.img"
mount_rpfs -o disk_idle=600
vhdf=$(vhd rpc-a vm-a-data)
mkdir -p "$WORKDIR/rp"
if ! mount -o loop,ro "$vhdf" "$WORKDIR/rp" 2>"$WORKDIR/mount.err"; then
	grep -qi 'loop' "$WORKDIR/mount.err" && skip "no loop device: $(cat "$WORKDIR/mount.err")"
	fail "mount -o loop,ro of the .vhd failed: $(cat "$WORKDIR/mount.err")"
fi
at_exit "umount '$WORKDIR/rp' 2>/dev/null"
ls "$WORKDIR/rp/etc/app" | grep -qx app.conf || fail "app.conf is not in the loop-mounted disk"
cp "$WORKDIR/rp/var/lib/db/table.dat" "$WORKDIR/restored.dat" || fail "cp out of the loop mount failed"
cmp "$WORKDIR/restored.dat" "$src/var/lib/db/table.dat" || fail "the restored file differs"
cmp "$WORKDIR/rp/etc/app/app.conf" "$src/etc/app/app.conf" || fail "app.conf differs"
umount "$WORKDIR/rp" || fail "umount of the loop mount failed"
pass
