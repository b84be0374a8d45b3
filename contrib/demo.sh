#!/bin/sh
# contrib/demo.sh - build rpfs and armsim, start armsim with its demo
# subscription and mount it at /mnt/restorepoints (run as root).
#   sh contrib/demo.sh          start (again) and print a short tree
#   sh contrib/demo.sh stop     unmount, stop armsim, remove the run directory
# rpfs logs to $run/rpfs.log, armsim to $run/armsim.log (printed at the end).
# The build is installed under /usr/local (`make install`), so that the
# README's commands (rpfs, rpfs-wait, man rpfs) run as printed;
# `make -C build uninstall` removes it.
# RPFS_DEMO_BUILD=DIR runs the demo from a build directory made already,
# without installing anything (the tests do).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
mnt=${RPFS_DEMO_MOUNT:-/mnt/restorepoints}
run=${RPFS_DEMO_DIR:-/run/rpfs-demo}
sub=8c1b6e44-2f0a-4d3e-9b57-1d4e3f6a9c20

stop() {
	if mountpoint -q "$mnt" 2>/dev/null; then
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt"
	fi
	if [ -f "$run/armsim.pid" ]; then
		kill "$(cat "$run/armsim.pid")" 2>/dev/null || true
		rm -f "$run/armsim.pid"
	fi
	# Only a directory this script made (it leaves a mark in it).
	if [ -f "$run/.rpfs-demo" ]; then
		rm -rf "$run"
	fi
}

# Small ext4 images (64 MiB; the disks read zeros after them) holding a few
# files, for two data disks of vm-web-01 in every restore point, so that a
# lost file can be restored from disks/NAME.vhd with mount -o loop,ro and cp.
demo_disks() {
	d=$run/disks
	rm -rf "$d"
	mkdir -p "$d/data-01/var/lib/app" "$d/data-01/etc/app" "$d/data-02/log/nginx" \
		"$d/data-02/backup"
	{
		printf 'SQLite format 3\000'
		awk 'BEGIN { for (i = 1; i <= 20000; i++)
			printf "order %06d,contoso-web,2026-11-19T23:%02d:00Z,EUR,%d.99\n", i, i % 60, i % 500 }'
	} >"$d/data-01/var/lib/app/orders.db"
	printf '[app]\nlisten = 0.0.0.0:8080\ndatabase = /data/var/lib/app/orders.db\nworkers = 4\n' \
		>"$d/data-01/etc/app/config.ini"
	printf 'Data disk of vm-web-01: the shop application and its order database.\n' \
		>"$d/data-01/README"
	seq -f '10.0.0.%g - - [19/Nov/2026:23:59:59 +0000] "GET /cart HTTP/1.1" 200 512' 1 5000 \
		>"$d/data-02/log/nginx/access.log"
	printf 'nightly export of orders, kept for 30 days\n' >"$d/data-02/backup/README"
	mke2fs -q -t ext4 -L app-data -d "$d/data-01" "$d/vm-web-01-data-01.img" 64M >/dev/null
	mke2fs -q -t ext4 -L app-logs -d "$d/data-02" "$d/vm-web-01-data-02.img" 64M >/dev/null
	rm -rf "$d/data-01" "$d/data-02"
}

if [ "${1:-}" = stop ]; then
	stop
	echo "demo stopped (rpfs stays installed: make -C build uninstall removes it)"
	exit 0
fi

cd "$top"
bld=${RPFS_DEMO_BUILD:-}
if [ -z "$bld" ]; then
	sh contrib/deps.sh
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
	mkdir -p build
	echo "building rpfs and armsim, installing them under /usr/local (log: build/build.log)"
	if ! (cd build && { [ -f Makefile ] || ../configure -q; } && make -s -j2 && make -s install) \
		>build.log 2>&1; then
		tail -30 build.log >&2
		exit 1
	fi
	mv build.log build/build.log
	bld=build
fi

stop
mkdir -p "$run" "$mnt"
chmod 700 "$run"
: >"$run/.rpfs-demo"
# A fresh random token that armsim accepts and rpfs reads from a file:
# the secret never appears on a command line.
umask 077
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/token"
umask 022
rm -f "$run/port"
demo_disks
"$bld/contrib/armsim/armsim" --listen 127.0.0.1:0 --port-file "$run/port" --demo --rg-case upper \
	--disk-image "vm-web-01-data-01=$run/disks/vm-web-01-data-01.img" \
	--disk-image "vm-web-01-data-02=$run/disks/vm-web-01-data-02.img" \
	--blob-port-file "$run/blob.port" \
	--accept-token "@$run/token" --log "$run/armsim.log" >"$run/armsim.out" 2>&1 &
echo $! >"$run/armsim.pid"
i=0
while [ ! -s "$run/port" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$run/port" ] || { echo "armsim did not start; see $run/armsim.out and $run/armsim.log" >&2; exit 1; }
port=$(cat "$run/port")

"$bld/src/rpfs" -o "endpoint=http://127.0.0.1:$port,subscription=$sub,token_file=$run/token,log=$run/rpfs.log" "$mnt" ||
	{ echo "rpfs did not mount (see the message above, and its log $run/rpfs.log)" >&2; exit 1; }

echo "armsim (demo subscription) on http://127.0.0.1:$port; rpfs mounted at $mnt"
echo
for region in "$mnt"/*/; do
	for rg in "$region"*/; do
		[ -d "$rg" ] || continue
		for c in "$rg"*/; do
			[ -d "$c" ] || continue
			echo "${c#"$mnt"/}  ($(ls "$c" | grep -c '^rp' || true) restore points, state $(cat "$c/state"))"
		done
	done
done
echo
echo "Logs: rpfs $run/rpfs.log, armsim $run/armsim.log"
echo "Try: ls $mnt/eastus    cat $mnt/*/*/*/*/progress    sh contrib/demo.sh stop"
echo "Restore a file: mount -o loop,ro $mnt/eastus/rg-prod/rpc-vm-web-01/rp-20261120-0200/disks/vm-web-01-data-01.vhd /mnt/x"
