#!/bin/sh
# What rpfs refuses before sending (bad names, copy of a copy, a second
# copy of a point to a region, a source in the same region or not yet
# Succeeded, a stray file) and what ARM refuses (one create at a time per
# VM, 500 points per VM, copies in order), each with arm_errno's errno;
# the requests in armsim's log show what was sent.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=60,busy_ttl=1,retries=0
cd "$MNT" || fail "cd"
V=rpc-vm-web-01

# Bad names: EINVAL, and not one request.
ls westus/rg-dev eastus/rg-prod/$V >/dev/null
mut_clear
for c in '<' '>' '%' '&' ':' '\' '?'; do
	expect_errno EINVAL mkdir "westus/rg-dev/a${c}b"
	expect_errno EINVAL mkdir "eastus/rg-prod/$V/a${c}b"
done
expect_errno EINVAL mkdir "westus/rg-dev/$(printf 'a\001b')"
expect_errno EINVAL mkdir "westus/rg-dev/trailing."
expect_errno EINVAL mkdir "westus/rg-dev/trailing "
expect_errno EINVAL mkdir "westus/rg-dev/$(printf '%261s' '' | tr ' ' x)"
expect_eq "requests sent for bad names" 0 "$(sim GET /_armsim/stats | jpy 'd["total"]')"

# A new restore point of the VM, then a second create on the same VM while
# the first is Creating: EBUSY from ARM.
mut_clear
mkdir eastus/rg-prod/$V/rp-new || fail "mkdir of a point"
expect_eq "state of the new point" Creating "$(cat eastus/rg-prod/$V/rp-new/state)"
expect_errno EBUSY mkdir eastus/rg-prod/$V-weekly/rp-new2
mut_expect_writes "mkdir of points on one VM" \
"PUT $(mut_rp rg-prod $V rp-new) {\"properties\":{}}
PUT $(mut_rp rg-prod $V-weekly rp-new2) {\"properties\":{}}"

# A point that is not Succeeded cannot be copied: EBUSY, no PUT.
mut_clear
mkdir westus/rg-dev/$V || fail "mkdir of a copy collection"
expect_errno EBUSY mkdir westus/rg-dev/$V/rp-new
mut_expect_writes "copy of a point still Creating" \
	"$(mut_put_rpc_line rg-dev $V westus "$(mut_rpc rg-prod $V)")"
sim_advance 3600
sleep 1.2 # busy_ttl: the kernel asks again
expect_eq "state once created" Succeeded "$(cat eastus/rg-prod/$V/rp-new/state)"

# Copy of a copy: EINVAL, nothing sent (by name, by source, by cp -r).
mut_clear
expect_errno EINVAL cp -r westus2/rg-prod/$V-westus2 westus/rg-dev/
mkdir westus/rg-dev/cc || fail "mkdir pending"
expect_errno EINVAL sh -c "/bin/echo $(mut_rpc rg-prod $V-westus2) >westus/rg-dev/cc/source"
expect_errno EINVAL cp -r westus2/rg-prod/$V-westus2/rp-20261116-0200 westus/rg-dev/$V/cc-point
mut_no_writes "copies of a copy"

# A source in the same region: EINVAL, nothing sent.
mkdir eastus/rg-dev/same || fail "mkdir pending in eastus"
expect_errno EINVAL sh -c "/bin/echo $(mut_rpc rg-prod $V) >eastus/rg-dev/same/source"
mut_no_writes "a source in the same region"

# A second copy of a point to the same region (westus2 has one): EEXIST, no PUT.
mut_clear
mkdir westus2/rg-analytics/web-b || fail "second copy collection in westus2"
/bin/echo "$(mut_rpc rg-prod $V)" >westus2/rg-analytics/web-b/source || fail "naming the source"
expect_errno EEXIST mkdir westus2/rg-analytics/web-b/rp-20261118-0200
mut_expect_writes "a second copy of a point to westus2" \
	"$(mut_put_rpc_line rg-analytics web-b westus2 "$(mut_rpc rg-prod $V)")"

# Copies in order (westus3 already has 18 and 19): EINVAL from ARM.
S=rpc-vm-sql-01
mut_clear
mkdir westus3/rg-dev/$S || fail "copy collection in westus3"
expect_errno EINVAL mkdir westus3/rg-dev/$S/rp-20261115-0202
mut_expect_writes "a copy out of order" \
"$(mut_put_rpc_line rg-dev $S westus3 "$(mut_rpc rg-prod $S)")
$(mut_put_copy_line rg-dev $S rp-20261115-0202 "$(mut_rp rg-prod $S rp-20261115-0202)")"

# A stray file copied into a point or a collection: EPERM.
mut_clear
expect_errno EPERM cp "$TESTS_SRCDIR/mut_lib.sh" eastus/rg-prod/$V/rp-20261111-0200/
expect_errno EPERM sh -c "/bin/echo x >eastus/rg-prod/$V/notes.txt"
expect_errno EPERM mkdir eastus/rg-prod/$V/rp-20261111-0200/extra
mut_no_writes "stray files"

# The 501st point of a VM: EDQUOT.  Fill vm-dev-01 up to 500 points.
D=rpc-vm-dev-01
have=$(ls westeurope/rg-dev/$D | grep -c '^rp-')
python3 - "$ARMSIM_PORT" "$(mut_rpc rg-dev $D)" "$have" <<'PY' || fail "cannot fill the VM"
import http.client, json, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for i in range(500 - int(sys.argv[3])):
    c.request("POST", "/_armsim/mutate", json.dumps({"op": "add_point", "collection": sys.argv[2], "name": "rp-fill-%03d" % i}), {"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 200:
        sys.exit(1)
PY
mut_clear
expect_errno EDQUOT mkdir westeurope/rg-dev/$D/rp-501
mut_expect_writes "the 501st point" "PUT $(mut_rp rg-dev $D rp-501) {\"properties\":{}}"
grep -q "EDQUOT" .rpfs/ops || fail "the refusal is not in .rpfs/ops"
cd /
pass
