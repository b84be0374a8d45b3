#!/bin/sh
# Bad input from the user through mutations: 1 MiB written to `source` or
# `tags` is EFBIG; garbage ids, ids of the wrong resource type (VM, disk,
# subscription, a collection of another subscription) and paths outside
# the mount written to a pending collection's `source` are EINVAL; bad
# tags text is EINVAL: each with a log line, and no request (armsim's log
# stays empty).  Names with ?, #, %2F, .. given to mkdir never change the
# request path: refused with EINVAL (and no request), or sent as exactly
# one percent-encoded segment (armsim's raw_path).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
mount_rpfs -o op_timeout=3,retries=1
cd "$MNT" || fail "cd"
SUB=$DEMO_SUB
RG=/subscriptions/$SUB/resourceGroups
C=eastus/rg-prod/rpc-vm-web-01
VM=$(cat $C/source) || fail "no source"
P=westus/rg-dev/rel-pending
mkdir $P || fail "mkdir of a pending collection"
[ "$(cat $P/state)" = pending ] || fail "$P is not pending"
ls -lR . >/dev/null || fail "walk"
nbad=0

# wr FILE: write stdin to FILE in one open, print OK or the errno name of
# the write or the close that failed.
wr() {
	python3 -c '
import errno, os, sys
data = sys.stdin.buffer.read()
try:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
except OSError as e:
    print("open:" + errno.errorcode[e.errno]); sys.exit()
try:
    os.write(fd, data) if len(data) < 65536 else [os.write(fd, data[i:i + 65536]) for i in range(0, len(data), 65536)]
except OSError as e:
    print(errno.errorcode[e.errno])
    try:
        os.close(fd)
    except OSError:
        pass
    sys.exit()
try:
    os.close(fd)
except OSError as e:
    print(errno.errorcode[e.errno]); sys.exit()
print("OK")' "$1"
}

# bad WANT FILE DESC DATA: writing DATA to FILE gives WANT, a new log line,
# and sends nothing.
bad() {
	local want=$1 file=$2 desc=$3 got lines
	nbad=$((nbad + 1))
	clear_log
	lines=$(wc -l <"$RPFS_LOG")
	got=$(printf '%s' "$4" | wr "$file")
	[ "$got" = "$want" ] || fail "$desc to $file: $got, not $want"
	[ "$(sed -n "$((lines + 1)),\$p" "$RPFS_LOG" | grep -c 'warning')" -ge 1 ] ||
		fail "$desc to $file: no log line"
	n=$(sim GET /_armsim/stats | jq .total)
	[ "$n" = 0 ] || fail "$desc to $file: $n requests sent: $(simlog '.path' | head -3)"
}

big=$(head -c 1048576 /dev/zero | tr '\0' a)
bad EFBIG $P/source "1 MiB" "$big"
bad EFBIG $C/tags "1 MiB" "$big"
bad EFBIG $C/tags "1 MiB of tag lines" "$(seq 100000 | sed 's/^/k/; s/$/=v/')"
bad EINVAL $P/source "garbage" "garbage"
bad EINVAL $P/source "binary garbage" "$(printf 'a\001\002\377b')"
bad EINVAL $P/source "a subscription id" "/subscriptions/$SUB"
bad EINVAL $P/source "a disk id" "$RG/rg-prod/providers/Microsoft.Compute/disks/vm-web-01-os"
bad EINVAL $P/source "under a VM id" "$VM/extensions/x"
bad EINVAL $P/source "a collection of another subscription" \
	"/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/rpc-vm-web-01"
bad EINVAL $P/source "an id with a query" "$RG/rg-prod/providers/Microsoft.Compute/restorePointCollections/rpc-vm-web-01?x=1"
bad EINVAL $P/source "an id with .. segments" "$RG/rg-prod/providers/Microsoft.Compute/restorePointCollections/../../../x"
bad EINVAL $P/source "a path outside the mount" "/etc/passwd"
bad EINVAL $P/source "a path leaving the mount" "$MNT/../x"
bad EINVAL $P/source "a relative path" "../../../../etc"
bad EINVAL $C/tags "a tags line without =" "$(printf 'a b\n')"
[ "$(cat $P/state)" = pending ] || fail "$P is no longer pending"
# An id of another kind that cp copies (a VM id, from a collection's
# source) is absorbed and ignored: no request.
for id in "$VM"; do
	nbad=$((nbad + 1))
	clear_log
	[ "$(printf '%s' "$id" | wr $P/source)" = OK ] || fail "$id written to source is not absorbed"
	[ "$(sim GET /_armsim/stats | jq .total)" = 0 ] || fail "$id written to source sent a request"
	[ "$(cat $P/state)" = pending ] || fail "$P is no longer pending after $id"
done
log "FIGURE bad writes tried: $nbad, each refused with a log line and no request"

# --- names given to mkdir ---------------------------------------------------
nnames=0
for n in 'a?b' 'a%2Fb' '%2F..%2Fx' 'a%23b' 'a/..'; do
	for d in westus/rg-dev $C; do
		nnames=$((nnames + 1))
		clear_log
		out=$(mkdir "$d/$n" 2>&1) && fail "mkdir $d/$n succeeded"
		case $out in *'Invalid argument'* | *'No such file'*) ;; *) fail "mkdir $d/$n: $out" ;; esac
		[ "$(sim GET /_armsim/stats | jq .total)" = 0 ] || fail "mkdir $d/$n sent a request"
	done
done
for n in .. . ; do
	nnames=$((nnames + 1))
	clear_log
	mkdir "westus/rg-dev/$n" 2>/dev/null && fail "mkdir $n succeeded"
	[ "$(sim GET /_armsim/stats | jq .total)" = 0 ] || fail "mkdir $n sent a request"
done
# Names ARM allows are sent as one segment, percent-encoded byte for byte.
for n in 'a#b' 'a..b' 'x y'; do
	nnames=$((nnames + 1))
	clear_log
	mkdir "$C/$n" 2>/dev/null # the VM may be busy (EBUSY): only the path matters
	enc=$(printf '%s' "$n" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.buffer.read(), safe="-_.~"))')
	want=$RG/rg-prod/providers/Microsoft.Compute/restorePointCollections/rpc-vm-web-01/restorePoints/$enc
	simlog 'select(.method == "PUT") | .raw_path' | jq -r . >"$WORKDIR/raw"
	[ -s "$WORKDIR/raw" ] || fail "mkdir $C/$n sent no PUT"
	while IFS= read -r raw; do
		[ "$raw" = "$want" ] || fail "mkdir $C/$n was sent as $raw, not $want"
	done <"$WORKDIR/raw"
	sleep 1 # the point's creation ends before the next one
	sim POST /_armsim/clock '{"advance":600}' >/dev/null
done
# A pending collection named with # gets its PUT at exactly that path.
nnames=$((nnames + 1))
mkdir 'westus/rg-dev/c#1' || fail "mkdir of c#1"
clear_log
printf '%s' "$RG/rg-prod/providers/Microsoft.Compute/restorePointCollections/rpc-vm-web-01" >'westus/rg-dev/c#1/source' ||
	fail "writing the source of c#1"
got=$(simlog 'select(.method == "PUT") | .raw_path' | jq -r .)
[ "$got" = "$RG/rg-dev/providers/Microsoft.Compute/restorePointCollections/c%231" ] ||
	fail "the PUT of c#1 went to $got"
log "FIGURE mkdir names tried: $nnames, refused without a request or sent as one encoded segment"
cd /
pass
