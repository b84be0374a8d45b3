#!/bin/sh
# Every console session of the README (```console blocks, the lines that
# start with "$ ") runs as printed after contrib/demo.sh: the demo itself
# is started (from this build, on a mount point of the test's own), each
# session runs in its own shell, and every command must succeed.  What a
# session prints may differ with the time; the commands may not fail.
# Paths of the demo are the test's: /mnt/restorepoints is its mount point,
# /mnt/rp a directory of its own; armsim's clock runs fast so that
# rpfs-wait sees the copies end.
. "$TESTS_SRCDIR/lib.sh"
need_fuse
need_armsim
command -v mke2fs >/dev/null || skip "no mke2fs (e2fsprogs): the demo's disks need it"
command -v python3 >/dev/null || skip "no python3"
[ -e /dev/loop-control ] || skip "no loop devices (/dev/loop-control): the restore session needs one"
top=$(cd "$TESTS_SRCDIR/.." && pwd)
bld=$(cd "$(dirname "$RPFS")/.." && pwd)
run=$WORKDIR/run
RPFS_DEMO_MOUNT=$WORKDIR/mnt RPFS_DEMO_DIR=$run RPFS_DEMO_BUILD=$bld
export RPFS_DEMO_MOUNT RPFS_DEMO_DIR RPFS_DEMO_BUILD
mkdir -p "$WORKDIR/rp" "$WORKDIR/home"
at_exit "umount '$WORKDIR/rp' 2>/dev/null; sh '$top/contrib/demo.sh' stop >/dev/null 2>&1"
sh "$top/contrib/demo.sh" >"$WORKDIR/demo.out" 2>&1 || fail "the demo did not start: $(tail -5 "$WORKDIR/demo.out")"
MNT=$RPFS_DEMO_MOUNT
mountpoint -q "$MNT" || fail "the demo mounted nothing"
ARMSIM_URL=http://127.0.0.1:$(cat "$run/port")

# The sessions, one script each.
python3 - "$top/README" "$WORKDIR" <<'PY' || fail "cannot read the README's sessions"
import os, re, sys
readme, work = sys.argv[1], sys.argv[2]
blocks, cur = [], None
for line in open(readme, encoding="utf-8"):
    if line.startswith("```console"):
        cur = []
    elif line.startswith("```") and cur is not None:
        blocks.append(cur)
        cur = None
    elif cur is not None and line.startswith("$ "):
        cur.append(line[2:].rstrip("\n"))
assert blocks, "no console session in the README"
for i, cmds in enumerate(blocks):
    with open(os.path.join(work, "session%d.sh" % i), "w") as f:
        f.write("cd %s\n" % work)
        for c in cmds:
            c = c.replace("/mnt/restorepoints", "$MNT")
            c = re.sub(r"/mnt/rp\b", "$WORKDIR/rp", c)
            q = c.replace("'", "'\\''")
            f.write("%s || { echo 'FAILED: %s' >&2; exit 1; }\n" % (c, q))
print(len(blocks))
PY
n=$(ls "$WORKDIR"/session*.sh | wc -l)
[ "$n" -ge 3 ] || fail "only $n console sessions in the README"

# armsim's clock runs 60 s a second: copies end within the sessions.
(while :; do
	curl -sf -X POST -H 'Content-Type: application/json' --data '{"advance":60}' \
		"$ARMSIM_URL/_armsim/clock" >/dev/null 2>&1 || exit 0
	sleep 1
done) &
_lib_pids="$_lib_pids $!"

i=0
while [ -f "$WORKDIR/session$i.sh" ]; do
	if ! out=$(cd "$WORKDIR" && HOME=$WORKDIR/home MNT=$MNT WORKDIR=$WORKDIR \
		PATH="$bld/src:$top/contrib:$PATH" MANPATH="$top/doc:" timeout 300 bash "session$i.sh" 2>&1); then
		fail "README session $i: $(printf '%s\n' "$out" | tail -5)"
	fi
	log "README session $i: $(grep -c 'FAILED' "$WORKDIR/session$i.sh") commands ran"
	i=$((i + 1))
done
# demo.sh stop unmounts, stops armsim and removes its run directory.
sh "$top/contrib/demo.sh" stop >/dev/null 2>&1 || fail "demo.sh stop failed"
mountpoint -q "$MNT" && fail "demo.sh stop left the mount"
[ -e "$run" ] && fail "demo.sh stop left $run behind"
pass
