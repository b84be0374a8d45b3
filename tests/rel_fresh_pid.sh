#!/bin/sh
# In a directory a process has just made, the view names that cp writes
# look absent to that process alone, so that cp's O_CREAT|O_EXCL reaches
# rpfs (README, "How the calls map to ARM"). The rule must cost no other
# program its view:
#  - cp -r and rsync -r --inplace of a point still copy it;
#  - shutil.copytree of a point, then, in the same process, open() of its
#    progress (a name cp never writes: the source is no copy) and of its id;
#  - a later process that gets the pid of the one that made a directory
#    sees every file of it (the pid alone named the process before).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
command -v rsync >/dev/null || skip "rsync not installed"

start_armsim --demo
mount_rpfs -o busy_ttl=1
S=$MNT/eastus/rg-prod/rpc-vm-web-01-weekly
D=$MNT/westus/rg-dev/rpc-vm-web-01-weekly
mkdir "$D" || fail "mkdir of the copy collection"
set -- $(ls "$S" | grep '^rp-')
[ $# -ge 3 ] || fail "fewer than 3 points to copy: $*"

# cp -r and rsync --inplace.
cp -r "$S/$1" "$D/" || fail "cp -r of a point"
rsync -r --inplace --exclude='*.vhd' "$S/$2" "$D/" || fail "rsync -r --inplace of a point"
for p in "$1" "$2"; do
	expect_eq "source of $p" "$(cat "$S/$p/id")" "$(cat "$D/$p/source")"
done

# shutil.copytree, then the same process reads what it made.
out=$(python3 - "$S/$3" "$D/$3" <<'PY' 2>&1
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
shutil.copytree(src, dst)
names = os.listdir(dst)
assert "progress" in names, names
with open(os.path.join(dst, "progress")) as f:
    last = f.read().splitlines()[-1]
assert last.startswith("total "), last
with open(os.path.join(dst, "id")) as f:
    assert f.read().strip().endswith("/" + os.path.basename(dst))
with open(os.path.join(dst, "source")) as f:
    assert f.read().strip().endswith("/" + os.path.basename(src))
print("ok", last)
PY
) || fail "shutil.copytree then open in the same process: $out"
log "copytree: $out"

# A later process with the pid of the one that made a point.
V=$MNT/eastus/rg-prod/rpc-vm-web-01
mkdir "$V/rp-fresh" &
made=$!
wait $made || fail "mkdir of a new point"
# A child forked right after ns_last_pid is set to made - 1 gets pid made.
out=$(python3 - "$made" "$V/rp-fresh" <<'PY' 2>&1
import os, subprocess, sys
want, path = int(sys.argv[1]), sys.argv[2]
for _ in range(2000):  # other tests fork too: the pid may be taken first
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(want - 1))
    pid = os.fork()
    if pid == 0:
        if os.getpid() != want:
            os._exit(3)
        os.execvp("ls", ["ls", "-l", path])
    _, st = os.waitpid(pid, 0)
    if os.WEXITSTATUS(st) != 3:
        print("pid", pid, "ls exit", os.WEXITSTATUS(st))
        sys.exit(os.WEXITSTATUS(st))
print("no pid", want)
sys.exit(9)
PY
) || fail "ls -l of a point by a later process with the pid of its mkdir: $out"
printf '%s\n' "$out" | grep -q ' id$' || fail "pid $made reused: no id in: $out"
pass
