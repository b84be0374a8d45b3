#!/bin/sh
# The token goes only to the endpoint: a nextLink, Azure-AsyncOperation or
# Location URL on another host (or port) is refused before any request;
# TLS is verified (a wrong CA is refused with a clear message, the right
# one via cafile works); a debug-level log holds no token, secret or
# federated assertion.
. "$TESTS_SRCDIR/arm_lib.sh"

# --- a fake ARM whose links point at a second, "foreign" listener --------
if command -v python3 >/dev/null; then
	cat >"$WORKDIR/fake.py" <<'EOT'
import http.server, json, sys, threading
workdir = sys.argv[1]
class Foreign(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        with open(workdir + "/foreign.log", "a") as f:
            f.write("%s %s auth=%s\n" % (self.command, self.path, "yes" if self.headers.get("Authorization") else "no"))
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers()
        self.wfile.write(b'{"value":[],"status":"Succeeded"}')
class Arm(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def answer(self, code, body, headers=()):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        for k, v in headers: self.send_header(k, v)
        data = json.dumps(body).encode() if body is not None else b""
        self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
    def do_GET(self):
        if self.path.startswith("/big/"):
            data = b'{"value":[' + b' ' * (9 * 1024 * 1024) + b']}'
            self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:
                pass
            return
        fl = "http://127.0.0.1:%d" % foreign.server_address[1]
        self.answer(200, {"value": [], "nextLink": fl + "/next?$skipToken=1"})
    def do_PUT(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        fl = "http://127.0.0.1:%d" % foreign.server_address[1]
        self.answer(201, {"id": self.path.split("?")[0], "name": "rp", "properties": {"provisioningState": "Creating"}},
                    [("Azure-AsyncOperation", fl + "/op?api-version=1"), ("Retry-After", "0")])
    def do_DELETE(self):
        fl = "http://127.0.0.1:%d" % foreign.server_address[1]
        self.answer(202, None, [("Location", fl + "/loc?api-version=1"), ("Retry-After", "0")])
foreign = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Foreign)
arm = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Arm)
threading.Thread(target=foreign.serve_forever, daemon=True).start()
open(workdir + "/fake.port.tmp", "w").write(str(arm.server_address[1]))
import os; os.rename(workdir + "/fake.port.tmp", workdir + "/fake.port")
arm.serve_forever()
EOT
	python3 "$WORKDIR/fake.py" "$WORKDIR" 2>"$WORKDIR/fake.err" &
	_lib_pids="$_lib_pids $!"
	wait_for 50 test -s "$WORKDIR/fake.port" || fail "fake ARM did not start"
	FAKE="http://127.0.0.1:$(cat "$WORKDIR/fake.port")"
	fd() { OUT=$("$ARMDRV" -e "$FAKE" -s "$DEMO_SUB" -t "$WORKDIR/token" "$@" 2>>"$WORKDIR/fake.drv"); }
	if fd list; then fail "a foreign nextLink was followed: $OUT"; fi
	case $OUT in *"errno=EIO "*) ;; *) fail "foreign nextLink: $OUT" ;; esac
	grep -q 'refusing to follow a nextLink URL to another host' "$WORKDIR/fake.drv" ||
		fail "foreign nextLink refused without a log line"
	if fd -w 5 putrp rg c rp; then fail "a foreign Azure-AsyncOperation was polled: $OUT"; fi
	case $OUT in *"status 201"*"errno=EIO "*) ;; *) fail "foreign async: $OUT" ;; esac
	if fd -w 5 delrp rg c rp; then fail "a foreign Location was polled: $OUT"; fi
	case $OUT in *"status 202"*"errno=EIO "*) ;; *) fail "foreign location: $OUT" ;; esac
	[ ! -s "$WORKDIR/foreign.log" ] || fail "the foreign host got requests: $(cat "$WORKDIR/foreign.log")"
	# An answer above the size cap is refused, not buffered.
	OUT=$("$ARMDRV" -e "$FAKE/big" -s "$DEMO_SUB" -t "$WORKDIR/token" -r 0 list 2>"$WORKDIR/big.err")
	case $OUT in *"errno=EIO "*) ;; *) fail "9 MiB answer: $OUT" ;; esac
	grep -q 'larger than' "$WORKDIR/big.err" || fail "9 MiB answer: no message: $(cat "$WORKDIR/big.err")"
else
	log "python3 not found: foreign-link checks not run"
fi

# --- TLS: armsim over HTTPS with a certificate made now -------------------
command -v openssl >/dev/null || skip "openssl not installed"
for n in good other; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
		-addext subjectAltName=IP:127.0.0.1 -keyout "$WORKDIR/$n.key" -out "$WORKDIR/$n.pem" \
		>/dev/null 2>&1 || skip "openssl cannot make a certificate"
done
start_armsim --demo --tls-cert "$WORKDIR/good.pem" --tls-key "$WORKDIR/good.key"
HTTPS="https://127.0.0.1:$ARMSIM_PORT"
td() { OUT=$("$ARMDRV" -e "$HTTPS" -s "$DEMO_SUB" -t "$WORKDIR/token" -r 1 "$@" 2>"$WORKDIR/tls.err"); }
if td -C "$WORKDIR/other.pem" locations; then fail "a certificate from the wrong CA was accepted"; fi
case $OUT in *"errno=EHOSTUNREACH "*) ;; *) fail "wrong CA: $OUT" ;; esac
grep -q "certificate is not trusted.*cafile" "$WORKDIR/tls.err" || fail "wrong CA: no clear message: $(cat "$WORKDIR/tls.err")"
if td locations; then fail "a self-signed certificate was accepted without cafile"; fi
td -C "$WORKDIR/good.pem" locations || fail "right CA refused: $OUT $(cat "$WORKDIR/tls.err")"

# --- a debug run over every source logs no credential ---------------------
SECRET='dbg-secret-8f1e2d'
ASSERT='eyJhbGciOiJub25lIn0.eyJzdWIiOiJkZWJ1Zy1hc3NlcnRpb24ifQ.ZGVidWctc2ln'
kill "$ARMSIM_PID" 2>/dev/null
start_armsim --demo --client "dbg-app:$SECRET"
printf '%s\n' "$ASSERT" >"$WORKDIR/fed"
dbg="$WORKDIR/debug.log"
(
	unset AZURE_FEDERATED_TOKEN_FILE RPFS_TOKEN_FILE
	export AZURE_TENANT_ID=t AZURE_CLIENT_ID=dbg-app AZURE_CLIENT_SECRET="$SECRET"
	"$ARMDRV" -d -e "$ARMSIM_URL" -s "$DEMO_SUB" -a env -A "$ARMSIM_URL" -R 0 loop 3 2
	"$ARMDRV" -d -e "$ARMSIM_URL" -s "$DEMO_SUB" -a env -A "$ARMSIM_URL" describe
	unset AZURE_CLIENT_SECRET
	AZURE_FEDERATED_TOKEN_FILE="$WORKDIR/fed" "$ARMDRV" -d -e "$ARMSIM_URL" -s "$DEMO_SUB" -a workload -A "$ARMSIM_URL" list
	"$ARMDRV" -d -e "$ARMSIM_URL" -s "$DEMO_SUB" -a msi -I "$ARMSIM_URL" locations
	"$ARMDRV" -d -e "$ARMSIM_URL" -s "$DEMO_SUB" -t "$WORKDIR/token" list
	"$ARMDRV" -d -e "$ARMSIM_URL" -s "$DEMO_SUB" -t "$WORKDIR/token" describe
) >"$dbg" 2>&1 || fail "debug runs failed: $(tail -5 "$dbg")"
grep -q 'debug: http: ' "$dbg" || fail "no trace lines in the debug log"
for s in "$SECRET" "$ASSERT" rpfs-test-token Bearer access_token client_secret client_assertion= ; do
	if grep -q -- "$s" "$dbg"; then fail "the debug log contains [$s]: $(grep -- "$s" "$dbg" | head -3)"; fi
done
# No issued token either: armsim's tokens are long random strings; none of
# the words in the log is one that armsim accepts.
for w in $(tr -c 'A-Za-z0-9._~+/=-' '\n' <"$dbg" | awk 'length($0) >= 20' | sort -u | head -2000); do
	st=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $w" \
		"$ARMSIM_URL/subscriptions/$DEMO_SUB/locations?api-version=2022-12-01")
	[ "$st" != 200 ] || fail "the debug log contains a valid token"
done
pass
