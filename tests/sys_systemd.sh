#!/bin/sh
# contrib/rpfs@.service passes systemd-analyze verify, and rpfs tells a
# Type=notify manager READY=1 once the mount is usable (sd_notify's
# datagram protocol on $NOTIFY_SOCKET), and STOPPING=1 on unmount.
. "$TESTS_SRCDIR/lib.sh"
command -v python3 >/dev/null || skip "python3 needed to listen on a notify socket"
unit=$TESTS_SRCDIR/../contrib/rpfs@.service
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$WORKDIR/units"
	sed "s#/usr/bin/rpfs#$RPFS#" "$unit" >"$WORKDIR/units/rpfs@$DEMO_SUB.service"
	out=$(systemd-analyze verify --man=no "$WORKDIR/units/rpfs@$DEMO_SUB.service" 2>&1) ||
		fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
else
	[ "${CI:-}" = true ] && fail "systemd-analyze missing"
fi
grep -q '^Type=notify' "$unit" || fail "unit is not Type=notify"

start_armsim --demo
sock=$WORKDIR/notify.sock
python3 - "$sock" "$WORKDIR/notify.out" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w") as out:
    try:
        while True:
            msg = s.recv(4096).decode()
            out.write(msg + "\n"); out.flush()
            if "STOPPING=1" in msg:
                break
    except socket.timeout:
        pass
PY
listener=$!
_lib_pids="$_lib_pids $listener"
wait_for 50 test -S "$sock" || fail "notify listener did not start"
NOTIFY_SOCKET=$sock mount_rpfs
wait_for 50 grep -q READY=1 "$WORKDIR/notify.out" || fail "no READY=1 from rpfs"
ls "$MNT/eastus" >/dev/null || fail "mount not usable after READY=1"
umount_rpfs
wait_for 50 grep -q STOPPING=1 "$WORKDIR/notify.out" || fail "no STOPPING=1 on unmount"
pass
