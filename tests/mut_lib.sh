# tests/mut_lib.sh - helpers of the mut_*.sh mounted tests (after lib.sh):
# the writes armsim received, as one line each, to compare with what the
# test expects to have been sent.

command -v python3 >/dev/null || skip "python3 is needed to read armsim's log"

# mut_writes: the PUT/PATCH/DELETE requests in armsim's log, one per line:
# "METHOD PATH BODY" (body as compact JSON with sorted keys, "-" when none).
mut_writes() {
	sim GET /_armsim/log | python3 -c '
import json, sys
for l in sys.stdin:
    l = l.strip()
    if not l:
        continue
    d = json.loads(l)
    if d["method"] == "GET":
        continue
    b = d.get("body")
    b = json.dumps(b, sort_keys=True, separators=(",", ":")) if b is not None else "-"
    print(d["method"], d["path"], b)'
}

# mut_clear: forget armsim's log (and stats).
mut_clear() {
	sim DELETE /_armsim/log >/dev/null || fail "cannot clear armsim's log"
}

# mut_expect_writes DESCRIPTION EXPECTED-LINES: the writes since the last
# mut_clear are exactly these (in this order).
mut_expect_writes() {
	local got
	got=$(mut_writes)
	if [ "$got" != "$2" ]; then
		log "expected writes:"
		printf '%s\n' "$2" >&2
		log "got:"
		printf '%s\n' "$got" >&2
		fail "$1: the requests sent are not the expected ones"
	fi
}

# mut_no_writes DESCRIPTION: nothing was written since the last mut_clear.
mut_no_writes() {
	mut_expect_writes "$1" ""
}

# Ids and bodies of the demo subscription.
M_RPC=/subscriptions/$DEMO_SUB/resourceGroups
# mut_rpc RG NAME, mut_rp RG NAME POINT: ARM ids.
mut_rpc() { printf '%s/%s/providers/Microsoft.Compute/restorePointCollections/%s' "$M_RPC" "$1" "$2"; }
mut_rp() { printf '%s/restorePoints/%s' "$(mut_rpc "$1" "$2")" "$3"; }
# mut_put_rpc_line RG NAME LOCATION SOURCE-ID: the expected collection PUT.
# The PUT carries the source collection's tags (read from armsim).
mut_put_rpc_line() {
	local tags
	tags=$(arm GET "$4?api-version=2025-04-01" | python3 -c '
import json, sys
t = json.load(sys.stdin).get("tags") or {}
print(",\"tags\":" + json.dumps(t, sort_keys=True, separators=(",", ":")) if t else "")')
	printf 'PUT %s {"location":"%s","properties":{"source":{"id":"%s"}}%s}' "$(mut_rpc "$1" "$2")" "$3" "$4" "$tags"
}
# mut_put_copy_line RG NAME POINT SOURCE-POINT-ID: the expected copy PUT.
mut_put_copy_line() {
	printf 'PUT %s {"properties":{"sourceRestorePoint":{"id":"%s"}}}' "$(mut_rp "$1" "$2" "$3")" "$4"
}
