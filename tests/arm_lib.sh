# tests/arm_lib.sh - shared by the arm_*.sh tests: lib.sh plus armdrv, the
# C driver of the ARM client (no mount), and a few armsim log helpers.
. "$TESTS_SRCDIR/lib.sh"

ARMDRV=${ARMDRV:-$PWD/armdrv}
[ -x "$ARMDRV" ] || skip "armdrv not built"
command -v jq >/dev/null || skip "jq not installed"
command -v curl >/dev/null || skip "curl not installed"

printf '%s\n' rpfs-test-token >"$WORKDIR/token"
chmod 600 "$WORKDIR/token"

# drv ARGS...: armdrv against armsim with the test token; output in $OUT.
drv() {
	OUT=$("$ARMDRV" -e "$ARMSIM_URL" -s "$DEMO_SUB" -t "$WORKDIR/token" "$@" 2>>"$WORKDIR/drv.err")
	local rc=$?
	printf '%s\n' "$OUT" >>"$WORKDIR/drv.out"
	return $rc
}

# drv_ok DESCRIPTION ARGS...: drv that must succeed.
drv_ok() {
	local what=$1; shift
	drv "$@" || fail "$what: armdrv $*: $OUT"
}

# drv_errno ERRNO DESCRIPTION ARGS...: drv that must fail with ERRNO.
drv_errno() {
	local want=$1 what=$2; shift 2
	if drv "$@"; then
		fail "$what: expected $want, armdrv succeeded: $OUT"
	fi
	case $OUT in
		*"errno=$want "*) ;;
		*) fail "$what: expected errno=$want, got: $OUT" ;;
	esac
}

# fresh: clear faults, log and stats.
fresh() {
	curl -sS -f -X DELETE "$ARMSIM_URL/_armsim/faults" >/dev/null
	curl -sS -f -X DELETE "$ARMSIM_URL/_armsim/log" >/dev/null
}
