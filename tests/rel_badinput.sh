#!/bin/sh
# Bad input.
# From the user (reads; writes come with mutations): names with ?, #, %2F,
# .., unicode, spaces, control characters, ARM's forbidden characters and
# over-long names, looked up at every level of the tree: a clean ENOENT,
# and either no request at all or a request whose path is exactly the
# name as one segment (armsim's log: "path", decoded, is the name itself,
# and "raw_path" the name percent-encoded byte for byte).  origin
# symlinks never point outside the mount.
# From the server (armsim fault kind "body"): an answer above the size
# cap, JSON nested 100000 deep, fields of the wrong type, invalid UTF-8,
# an empty 200, a nextLink to a foreign host (refused, that host gets
# nothing), a nextLink loop (stopped at once): EIO within op_timeout, the
# daemon stays up and recovers when the answers are good again.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

start_armsim --demo
mount_rpfs -o op_timeout=3,retries=1
ls -lR "$MNT" >/dev/null || fail "first walk"
SUB=$DEMO_SUB
nbad=0
nsent=0

# --- names from the user ---------------------------------------------------
long=$(printf 'n%.0s' $(seq 300))
clear_log
for n in 'rg?x' 'rg#x' 'rg%2Fx' '%2F..%2F..' 'rg..x' '...' 'rgé' 'rg日本' 'rg x' 'rg(1)' \
	"$(printf 'rg\001x')" "$(printf 'rg\177')" 'rg<x>' 'rg&x' 'rg:x' 'rg\x' 'rg%' 'rg%00x' \
	'rg.' "$long" 'rg*' "$(printf 'rg\377x')"; do
	for d in eastus eastus/rg-prod eastus/rg-prod/rpc-vm-web-01 \
		eastus/rg-prod/rpc-vm-web-01/rp-20261119-0200 .rpfs; do
		nbad=$((nbad + 1))
		out=$(stat -- "$MNT/$d/$n" 2>&1 >/dev/null) && fail "stat $d/$n succeeded"
		case $out in
		*'No such file or directory'* | *'File name too long'*) ;;
		*) fail "stat $d/$n: expected ENOENT, got: $out" ;;
		esac
	done
	# The only lookups that may reach ARM are resource groups: the exact name, one segment.
	sim GET /_armsim/log | jq -c --arg p "/subscriptions/$SUB/resourceGroups/" \
		'select(.path | startswith($p)) | .path[($p | length):]' >"$WORKDIR/sent" ||
		fail "cannot read armsim's log"
	while IFS= read -r s; do
		s=$(printf '%s' "$s" | jq -r .)
		[ "$s" = "$n" ] || fail "lookup of [$n] sent a request for [$s]"
	done <"$WORKDIR/sent"
	# and on the wire: each byte outside A-Za-z0-9-_.~ percent-encoded
	enc=$(printf '%s' "$n" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.buffer.read(), safe="-_.~"))')
	simlog '.raw_path' | jq -r . | while IFS= read -r raw; do
		[ "$raw" = "/subscriptions/$SUB/resourceGroups/$enc" ] ||
			{ echo "lookup of [$n] was sent as [$raw], not [$enc]"; exit 1; }
	done >"$WORKDIR/raw.err" || fail "$(cat "$WORKDIR/raw.err")"
	nsent=$((nsent + $(wc -l <"$WORKDIR/sent")))
	if simlog 'select(.operationId != "ResourceGroups_Get")' | grep -q .; then
		fail "lookup of [$n] sent: $(simlog '.path' | head -3)"
	fi
	if simlog '.query' | grep -v '^"api-version=[0-9-]*"$' | grep -q .; then
		fail "lookup of [$n] changed the query: $(simlog '.query' | head -3)"
	fi
	clear_log
done
log "FIGURE user names tried: $nbad lookups, each ENOENT; $nsent requests sent, each for the exact name, percent-encoded as one segment"
# origin symlinks resolve inside the mount
for l in $(cd "$MNT" && find . -name origin -type l); do
	nbad=$((nbad + 1))
	t=$(readlink "$MNT/$l")
	r=$(realpath -m "$MNT/$(dirname "$l")/$t")
	case $r in "$MNT"/*) ;; *) fail "origin $l points outside the mount: $t" ;; esac
done

# --- answers from the server -----------------------------------------------
# A foreign host: a second armsim, whose log must stay empty.
FPF=$WORKDIR/foreign.port
"$ARMSIM" --listen 127.0.0.1:0 --port-file "$FPF" --demo >>"$WORKDIR/foreign.log" 2>&1 &
_lib_pids="$_lib_pids $!"
wait_for 100 test -s "$FPF" || fail "the foreign armsim did not start"
FOREIGN="http://127.0.0.1:$(cat "$FPF")"
LISTALL="/subscriptions/$SUB/providers/Microsoft.Compute/restorePointCollections"
RPC_ID="/subscriptions/$SUB/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/rpc-vm-web-01"
C=eastus/rg-prod/rpc-vm-web-01
PROG=$(cd "$MNT" && find . -name progress | head -1)
nserver=0

# server_case DESC OPID RULE-FIELDS CMD...: with the answers of OPID replaced
# by the rule, CMD fails with EIO within op_timeout; the daemon stays up;
# with the fault gone, CMD works again.
server_case() {
	local desc=$1 op=$2 rule=$3
	shift 3
	nserver=$((nserver + 1))
	clear_log
	fault "{\"match\":{\"operationId\":\"$op\"},\"kind\":\"body\",$rule}"
	rel_flush
	timed_errno EIO 4500 "$@"
	kill -0 "$RPFS_PID" 2>/dev/null || fail "$desc: the daemon died"
	clear_faults
	rel_flush
	"$@" >/dev/null 2>&1 || fail "$desc: no recovery"
	log "$desc: EIO in $REL_MS ms, $(sim GET /_armsim/stats | jq .total) requests"
}

# 9 MiB answer (the cap is 8 MiB)
server_case "body over the cap" RestorePointCollections_ListAll '"body":"        ","repeat":1179648' ls "$MNT/eastus"
grep -q 'larger than' "$RPFS_LOG" || fail "no log line for the answer over the cap"
server_case "JSON nested 100000 deep" RestorePointCollections_Get '"body":"[","repeat":100000' ls "$MNT/$C"
server_case "nested objects" RestorePointCollections_ListAll '"body":"{\"value\":[{\"a\":","repeat":5000' ls "$MNT/eastus"
server_case "value is not a list" RestorePointCollections_ListAll '"body":"{\"value\":\"x\"}"' ls "$MNT/eastus"
server_case "wrong types in an element" RestorePointCollections_ListAll \
	'"body":"{\"value\":[{\"id\":5,\"name\":true,\"location\":[]}]}"' ls "$MNT/eastus"
server_case "restorePoints not a list" RestorePointCollections_Get \
	"\"body\":\"{\\\"id\\\":\\\"$RPC_ID\\\",\\\"name\\\":\\\"rpc-vm-web-01\\\",\\\"location\\\":\\\"eastus\\\",\\\"properties\\\":{\\\"restorePoints\\\":\\\"x\\\"}}\"" \
	ls "$MNT/$C"
server_case "a point without id" RestorePoints_Get '"body":"{\"name\":7,\"properties\":{\"instanceView\":\"x\"}}"' cat "$MNT/$PROG"
server_case "an empty 200" RestorePoints_Get '"body":""' cat "$MNT/$PROG"
server_case "a JSON null" RestorePointCollections_ListAll '"body":"null"' ls "$MNT/eastus"
# {"value":[{"id":".../restorePointCollections/c\xff","name":"c\xff","location":"eastus"}]}
hex=$(printf '{"value":[{"id":"/subscriptions/%s/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/c\377","name":"c\377\376","location":"eastus"}]}' "$SUB" | od -An -tx1 | tr -d ' \n')
server_case "invalid UTF-8" RestorePointCollections_ListAll "\"body_hex\":\"$hex\"" ls "$MNT/eastus"
server_case "a foreign nextLink" RestorePointCollections_ListAll \
	"\"body\":\"{\\\"value\\\":[],\\\"nextLink\\\":\\\"$FOREIGN$LISTALL?api-version=2025-04-01&%24skipToken=x\\\"}\"" ls "$MNT/eastus"
grep -q 'refusing to follow a nextLink URL to another host' "$RPFS_LOG" || fail "no log line for the foreign nextLink"
n=$(curl -sS "$FOREIGN/_armsim/stats" | jq .total)
[ "$n" = 0 ] || fail "the foreign host got $n requests"
server_case "a nextLink loop" RestorePointCollections_ListAll \
	"\"body\":\"{\\\"value\\\":[],\\\"nextLink\\\":\\\"$ARMSIM_URL$LISTALL?api-version=2025-04-01&%24skipToken=loop\\\"}\"" ls "$MNT/eastus"
# one try and one retry, two pages each: at most a handful of requests
n=$(sim GET /_armsim/stats | jq .total)
[ "$n" -le 10 ] || fail "the nextLink loop cost $n requests"
grep -q 'leads back to an earlier page' "$RPFS_LOG" || fail "no log line for the nextLink loop"
server_case "a collection named .." RestorePointCollections_ListAll \
	"\"body\":\"{\\\"value\\\":[{\\\"id\\\":\\\"/subscriptions/$SUB/resourceGroups/rg-prod/providers/Microsoft.Compute/restorePointCollections/..\\\",\\\"name\\\":\\\"..\\\",\\\"location\\\":\\\"eastus\\\"}]}\"" \
	ls "$MNT/eastus/rg-prod"
# A point whose disk is named ../x cannot be shown: it is left out, with a
# log line, and the collection lists without it.
fault "{\"match\":{\"operationId\":\"RestorePointCollections_Get\"},\"kind\":\"body\",\"body\":\"{\\\"id\\\":\\\"$RPC_ID\\\",\\\"name\\\":\\\"rpc-vm-web-01\\\",\\\"location\\\":\\\"eastus\\\",\\\"properties\\\":{\\\"restorePoints\\\":[{\\\"id\\\":\\\"$RPC_ID/restorePoints/p\\\",\\\"name\\\":\\\"p\\\",\\\"properties\\\":{\\\"sourceMetadata\\\":{\\\"storageProfile\\\":{\\\"osDisk\\\":{\\\"name\\\":\\\"../x\\\"}}}}}]}}\"}"
rel_flush
ls "$MNT/$C" >"$WORKDIR/c.ls" || fail "a disk named ../x: the collection does not list"
grep -qx p "$WORKDIR/c.ls" && fail "a disk named ../x: its point is shown"
grep -q 'restore point of .* cannot be shown.*skipped' "$RPFS_LOG" || fail "a disk named ../x: no log line"
clear_faults
rel_flush
log "FIGURE server answers tried: $nserver bad answers, each EIO, daemon up; user inputs tried: $nbad"
pass
