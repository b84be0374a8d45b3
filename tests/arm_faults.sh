#!/bin/sh
# Faults: every kind armsim injects is retried, and surfaces with the errno
# of arm_errno once the retries are spent; Retry-After of a 429 is obeyed by
# every request (no request inside the window); op_timeout bounds a call.
. "$TESTS_SRCDIR/arm_lib.sh"

start_armsim --demo
LOC='{"match":{"operationId":"Subscriptions_ListLocations"}'

# transient_ok KIND EXTRA: two faults, then success with two retries.
transient_ok() {
	fresh
	fault "$LOC,\"kind\":\"$1\",\"count\":2$2}"
	drv_ok "$1 twice then success" -r 3 locations
	case $OUT in *"retries=2 "*) ;; *) fail "$1: expected 2 retries: $OUT" ;; esac
	n=$(simlog 'select(.operationId=="Subscriptions_ListLocations")' | wc -l)
	expect_eq "$1: requests" 3 "$n"
}
# persistent ERRNO KIND EXTRA: always failing, surfaces after 2 retries.
persistent() {
	fresh
	fault "$LOC,\"kind\":\"$2\"$3}"
	drv_errno "$1" "$2 for good" -r 2 locations
	n=$(simlog 'select(.operationId=="Subscriptions_ListLocations")' | wc -l)
	expect_eq "$2: requests (1 + 2 retries)" 3 "$n"
}

transient_ok status ',"status":503,"code":"ServerBusy"'
persistent EIO status ',"status":503,"code":"ServerBusy"'
persistent EIO status ',"status":500,"code":"InternalError"'
transient_ok reset ''
persistent EIO reset ''
transient_ok truncate ''
persistent EIO truncate ''
transient_ok malformed ''
persistent EIO malformed ''
transient_ok throttle ',"retry_after":1'
persistent EAGAIN throttle ',"retry_after":0'
persistent ETIMEDOUT status ',"status":408,"code":"RequestTimeout"'

# Not retried: errors that will not change.
for spec in '404 ResourceNotFound ENOENT' '403 AuthorizationFailed EACCES' '400 InvalidParameter EINVAL' \
	'409 Conflict EEXIST'; do
	set -- $spec
	fresh
	fault "$LOC,\"kind\":\"status\",\"status\":$1,\"code\":\"$2\"}"
	drv_errno "$3" "$1 $2" -r 3 locations
	n=$(simlog 'select(.operationId=="Subscriptions_ListLocations")' | wc -l)
	expect_eq "$1 $2 sent once" 1 "$n"
done
# A concurrent operation on the VM is retried, then EBUSY.
fresh
fault "$LOC,\"kind\":\"status\",\"status\":409,\"code\":\"VMRestorePointClientError\"}"
drv_errno EBUSY "409 VMRestorePointClientError" -r 1 locations

# Retry-After of a 429 pauses every thread: nothing reaches ARM inside the
# window, checked on armsim's clock (requests already in flight when the
# 429 was sent arrive within a few ms of it and are not counted).
fresh
fault '{"match":{},"kind":"throttle","retry_after":2,"count":1}'
drv_ok "throttled workload" -R 0 loop 4 4
t429=$(simlog 'select(.status==429) | .t_ms' | head -1)
[ -n "$t429" ] || fail "no 429 in the log"
inside=$(sim GET /_armsim/log | jq -s --argjson t "$t429" '[.[] | select(.t_ms > $t + 100 and .t_ms < $t + 2000)] | length')
expect_eq "requests inside the Retry-After window" 0 "$inside"

# op_timeout bounds a call, retries included.
fresh
fault "$LOC,\"kind\":\"latency\",\"latency_ms\":3000}"
start=$(date +%s)
drv_errno ETIMEDOUT "slow answer" -T 1 locations
[ $(( $(date +%s) - start )) -le 3 ] || fail "op_timeout 1 took longer than 3 s"
fresh
fault "$LOC,\"kind\":\"throttle\",\"retry_after\":5}"
drv_errno EAGAIN "429 with a Retry-After past op_timeout" -T 2 locations

# Nobody listening: EHOSTUNREACH.
OUT=$("$ARMDRV" -e http://127.0.0.1:9 -s "$DEMO_SUB" -t "$WORKDIR/token" -r 1 locations 2>/dev/null)
case $OUT in *"errno=EHOSTUNREACH "*) ;; *) fail "closed port: $OUT" ;; esac

# Client-side read bucket: burst 100, then read_rate per second.
fresh
drv_ok "rate-limited workload" -R 10 loop 3 4
n=$(simlog 'select(.method=="GET")' | wc -l)
[ "$n" -le 140 ] || fail "read_rate 10 let $n requests through in 3 s (burst 100 + 30)"
[ "$n" -ge 100 ] || fail "only $n requests in 3 s: the burst of 100 was not allowed"

# Keep-alive: a busy workload on 4 threads opens about 4 connections.
fresh
drv_ok "keep-alive workload" -R 0 -c 4 loop 2 4
conns=$(printf '%s\n' "$OUT" | sed -n 's/.* connects=\([0-9]*\).*/\1/p')
reqs=$(printf '%s\n' "$OUT" | sed -n 's/.* requests=\([0-9]*\) .*/\1/p')
[ "$reqs" -ge 40 ] && [ "$conns" -le 8 ] || fail "connections not reused: $reqs requests, $conns connections"

# The ratelimit headers are recorded.
fresh
drv_ok "locations" locations
case $OUT in *"remaining_reads=-1"*) fail "x-ms-ratelimit-remaining-subscription-reads not recorded: $OUT" ;; esac
pass
