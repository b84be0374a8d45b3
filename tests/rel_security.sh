#!/bin/sh
# Security on a mounted rpfs:
#  - with client credentials from the environment and log_level=debug, no
#    secret and no token (the fixed one, or any token armsim issued) in the
#    daemon's log, in .rpfs/*, in /proc/PID/cmdline, or in the stats dump
#    SIGUSR1 writes; not even after failures (.rpfs/errors);
#  - http:// to a host that is not loopback is refused at start-up, with
#    nothing mounted;
#  - HTTPS with a certificate from another CA, or self-signed without
#    cafile, is refused; the right cafile mounts;
#  - without allow_other, another local user (made for the test, removed
#    at exit) gets EACCES.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"

SECRET='sec-secret-91d3a0e7'
start_armsim --demo --token-lifetime 5 --client "sec-app:$SECRET"
export AZURE_TENANT_ID=sec-tenant AZURE_CLIENT_ID=sec-app AZURE_CLIENT_SECRET="$SECRET"
rel_mount_env -o op_timeout=5,retries=1
ls -lR "$MNT" >/dev/null || fail "walk"
cat "$MNT"/westus2/*/*/*/progress >/dev/null || fail "progress"
sleep 6 # one refresh at least
ls -lR "$MNT" >/dev/null || fail "walk after a refresh"
# a few failures, so .rpfs/errors has lines
fault '{"kind":"status","status":403,"code":"AuthorizationFailed","count":4}'
rel_flush
ls "$MNT/eastus" >/dev/null 2>&1
clear_faults
kill -USR1 "$RPFS_PID"
sleep 0.5
mkdir -p "$WORKDIR/dump"
for f in "$MNT"/.rpfs/*; do
	case $f in */flush) continue ;; esac
	cat "$f" >"$WORKDIR/dump/$(basename "$f")" || fail "cannot read $f"
done
tr '\0' ' ' <"/proc/$RPFS_PID/cmdline" >"$WORKDIR/dump/cmdline"
cp "$RPFS_LOG" "$WORKDIR/dump/rpfs.log"
grep -q 'debug: http: ' "$WORKDIR/dump/rpfs.log" || fail "no debug trace lines in the log"
[ -s "$WORKDIR/dump/errors" ] || fail ".rpfs/errors is empty after failures"
for s in "$SECRET" rpfs-test-token Bearer access_token client_secret; do
	if grep -rq -- "$s" "$WORKDIR/dump"; then
		fail "[$s] found in: $(grep -rl -- "$s" "$WORKDIR/dump" | xargs -n1 basename | tr '\n' ' ')"
	fi
done
# No issued token: no long word of these files is accepted by armsim.
nw=0
for w in $(cat "$WORKDIR"/dump/* | tr -c 'A-Za-z0-9._~+/=-' '\n' | awk 'length($0) >= 20' | sort -u | head -3000); do
	nw=$((nw + 1))
	st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $w" \
		"$ARMSIM_URL/subscriptions/$DEMO_SUB/locations?api-version=2022-12-01")
	[ "$st" != 200 ] || fail "a valid token is in the log or .rpfs: ${w%"${w#????????}"}..."
done
ntok=$(sim GET /_armsim/stats | jq '.by_op.Token // 0')
[ "$ntok" -ge 2 ] || fail "expected a token refresh ($ntok tokens)"
log "no secret or token in log, .rpfs/*, cmdline, SIGUSR1 dump ($nw long words tried against armsim, $ntok tokens issued)"
umount_rpfs
unset AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET

# --- http:// only for loopback ---------------------------------------------
printf '%s\n' rpfs-test-token >"$WORKDIR/token"
chmod 600 "$WORKDIR/token"
mkdir -p "$WORKDIR/m2"
for o in endpoint=http://192.0.2.10 endpoint=http://example.com:8080 \
	"endpoint=$ARMSIM_URL,authority=http://login.example.com" endpoint=http://127.0.0.1.example.com; do
	if timeout 20 "$RPFS" -f -o "$o,token_file=$WORKDIR/token,subscription=$DEMO_SUB" "$WORKDIR/m2" \
		>"$WORKDIR/http.out" 2>&1; then
		fusermount3 -u "$WORKDIR/m2" 2>/dev/null
		fail "-o $o was accepted"
	fi
	mountpoint -q "$WORKDIR/m2" && fail "-o $o left a mount"
	grep -q 'loopback' "$WORKDIR/http.out" || fail "-o $o: no clear message: $(cat "$WORKDIR/http.out")"
done

# --- TLS: wrong certificates refused ----------------------------------------
if command -v openssl >/dev/null; then
	for n in good other; do
		openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
			-addext subjectAltName=IP:127.0.0.1 -keyout "$WORKDIR/$n.key" -out "$WORKDIR/$n.pem" \
			>/dev/null 2>&1 || fail "openssl cannot make a certificate"
	done
	kill "$ARMSIM_PID"
	start_armsim --demo --tls-cert "$WORKDIR/good.pem" --tls-key "$WORKDIR/good.key"
	HTTPS="https://127.0.0.1:$ARMSIM_PORT"
	for ca in "" "$WORKDIR/other.pem"; do
		if timeout 20 "$RPFS" -f -o "endpoint=$HTTPS,token_file=$WORKDIR/token,subscription=$DEMO_SUB,retries=0${ca:+,cafile=$ca}" \
			"$WORKDIR/m2" >"$WORKDIR/tls.out" 2>&1; then
			fusermount3 -u "$WORKDIR/m2" 2>/dev/null
			fail "a wrong certificate was accepted (cafile=${ca:-none})"
		fi
		mountpoint -q "$WORKDIR/m2" && fail "a wrong certificate left a mount"
		grep -qi 'certificate' "$WORKDIR/tls.out" || fail "wrong certificate: no clear message: $(cat "$WORKDIR/tls.out")"
	done
	timeout 20 "$RPFS" -f -o "endpoint=$HTTPS,token_file=$WORKDIR/token,subscription=$DEMO_SUB,cafile=$WORKDIR/good.pem" \
		"$WORKDIR/m2" >>"$RPFS_LOG" 2>&1 &
	p=$!
	wait_for 100 mountpoint -q "$WORKDIR/m2" || fail "the right cafile did not mount"
	ls "$WORKDIR/m2/eastus" >/dev/null || fail "no listing over HTTPS"
	fusermount3 -u "$WORKDIR/m2"
	wait "$p"
else
	log "openssl not found: TLS checks not run"
fi

# --- another local user -------------------------------------------------------
if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null && command -v runuser >/dev/null; then
	U=rpfsrel$$
	useradd -M -s /bin/sh "$U" >/dev/null 2>&1 || fail "useradd failed"
	trap 'rc=$?; userdel "$U" >/dev/null 2>&1; (exit $rc); cleanup' EXIT
	kill "$ARMSIM_PID" 2>/dev/null
	start_armsim --demo
	mount_rpfs
	chmod 755 "$WORKDIR" # let the user reach the mount point: only FUSE refuses
	ls "$MNT/eastus" >/dev/null || fail "the owner cannot list"
	for cmd in "ls $MNT" "ls $MNT/eastus" "cat $MNT/.rpfs/config" "stat $MNT/eastus"; do
		out=$(runuser -u "$U" -- $cmd 2>&1) && fail "user $U could run: $cmd"
		case $out in *'Permission denied'*) ;; *) fail "$cmd as $U: expected EACCES, got: $out" ;; esac
	done
	chmod 700 "$WORKDIR"
	log "another user gets EACCES without allow_other"
else
	skip "not root, or no useradd/runuser: the other-user check needs them"
fi
pass
