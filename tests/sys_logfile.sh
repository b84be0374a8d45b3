#!/bin/sh
# log=FILE: rpfs appends its log to FILE (lines with the date), and SIGHUP
# opens it again by name, so that after logrotate moved it away a new file
# is created and written.  A relative name is refused before mounting.
. "$TESTS_SRCDIR/lib.sh"
start_armsim --demo
logf=$WORKDIR/logs/rpfs.log
mkdir -p "$WORKDIR/logs"
mount_rpfs -o "log=$logf"

# The start-up line, then something that logs: SIGUSR1 writes the counters.
wait_for 50 grep -q "mounted subscription $DEMO_SUB on $MNT" "$logf" ||
	fail "no start-up line in $logf"
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z rpfs\[[0-9]+\]: info: mounted' "$logf" ||
	fail "the log line carries no date: $(head -1 "$logf")"
expect_eq ".rpfs/config names the log" "log=$logf" "$(grep '^log=' "$MNT/.rpfs/config")"
ls "$MNT/eastus" >/dev/null || fail "cannot list eastus"
kill -USR1 "$RPFS_PID"
wait_for 50 grep -q 'stats: requests' "$logf" || fail "SIGUSR1 wrote no stats to $logf"
grep -q 'stats: requests' "$RPFS_LOG" && fail "stats went to stderr as well as to $logf"

# logrotate: move the file away, SIGHUP, and the next lines go to a new file.
mv "$logf" "$logf.1"
kill -HUP "$RPFS_PID"
wait_for 50 test -f "$logf" || fail "SIGHUP did not create a new $logf"
wait_for 50 grep -q 'SIGHUP: dropping every cached answer' "$logf" ||
	fail "the new $logf lacks the SIGHUP line"
kill -USR1 "$RPFS_PID"
wait_for 50 grep -q 'stats: requests' "$logf" || fail "SIGUSR1 after SIGHUP wrote nothing to the new $logf"
grep -q 'SIGHUP' "$logf.1" && fail "a line after SIGHUP went to the moved file"
[ "$(stat -c %a "$logf")" = 640 ] || fail "new log file mode $(stat -c %a "$logf"), want 640"
umount_rpfs
grep -q "unmounting $MNT" "$logf" || fail "no unmount line in $logf"

# Neither stderr, syslog nor an absolute name: refused before mounting.
printf 'rpfs-test-token\n' >"$WORKDIR/token2"
if err=$("$RPFS" -o "endpoint=$ARMSIM_URL,token_file=$WORKDIR/token2,subscription=$DEMO_SUB,log=rpfs.log" \
	"$MNT" 2>&1); then
	fail "log=rpfs.log (relative) was accepted"
fi
echo "$err" | grep -q "option 'log'" || fail "log=rpfs.log: message does not name the option: $err"
mountpoint -q "$MNT" && fail "log=rpfs.log left a mount behind"
pass
