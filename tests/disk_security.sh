#!/bin/sh
# The SAS of a disk grant is a secret: with -o debug it appears in no log
# line (the trace of a blob request shows its host and path), in no file
# of the mount, and not on rpfs's command line; the blob never receives
# an Authorization header (the ARM token stays with ARM).
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
. "$TESTS_SRCDIR/disk_lib.sh"

start_disk_armsim
mount_rpfs -o debug,disk_idle=600
data=$(vhd rpc-a vm-a-data)
id=$(drp_id rpc-a vm-a-data)
head -c 100000 "$data" >/dev/null || fail "cannot read vm-a-data.vhd"
dd if="$data" of=/dev/null bs=64k skip=$((1900 * 16)) count=8 2>/dev/null || fail "cannot read at 1900 MiB"

# The SAS rpfs holds: armsim answers an active grant's SAS to anyone asking.
path=$(printf '%s' "$id" | sed 's#^/##')
arm_req POST "/$path/beginGetAccess?api-version=2025-01-02" '{"access":"Read","durationInSeconds":3600}'
loc=$(arm_hdr Location)
[ -n "$loc" ] || fail "beginGetAccess gave no Location: $ARM_STATUS $ARM_BODY"
sas=
for i in $(seq 50); do
	arm_req GET "$loc"
	[ "$ARM_STATUS" = 200 ] && sas=$(printf '%s' "$ARM_BODY" | jq -r .accessSAS) && break
	sleep 0.2
done
[ -n "$sas" ] && [ "$sas" != null ] || fail "no accessSAS from armsim"
sig=$(printf '%s' "$sas" | sed -n 's/.*[?&]sig=\([^&]*\).*/\1/p')
[ -n "$sig" ] || fail "the SAS has no sig: $sas"
query=${sas#*\?}

# Not in the log, yet the log traces the blob requests.
grep -q "Blob_Get GET 127.0.0.1:$BLOB_PORT/" "$RPFS_LOG" || fail "no trace line of a blob read in the debug log"
grep -qF "$sig" "$RPFS_LOG" && fail "the SAS signature is in rpfs's log"
grep -qF "$query" "$RPFS_LOG" && fail "the SAS query is in rpfs's log"
# Not under the mount (the views, .rpfs/*).
(cd "$MNT" && find . -type f ! -name '*.vhd' -print) >"$WORKDIR/files" || fail "find failed"
while IFS= read -r f; do
	cat "$MNT/$f" 2>/dev/null | grep -qF "$sig" && fail "the SAS is in $f"
done <"$WORKDIR/files"
grep -c . "$WORKDIR/files" >/dev/null || fail "no file under the mount"
# Not on the command line, not in the environment.
tr '\0' ' ' <"/proc/$RPFS_PID/cmdline" | grep -qF "$sig" && fail "the SAS is on rpfs's command line"
tr '\0' '\n' <"/proc/$RPFS_PID/environ" | grep -qF "$sig" && fail "the SAS is in rpfs's environment"

# The blob never saw an Authorization header; ARM always did.
sim GET /_armsim/log >"$WORKDIR/log.json"
nb=$(jq -c 'select(.operationId | startswith("Blob_"))' "$WORKDIR/log.json" | wc -l)
[ "$nb" -gt 2 ] || fail "only $nb blob requests in armsim's log"
ns=$(jq -c 'select((.operationId | startswith("Blob_")) and .auth == "sas")' "$WORKDIR/log.json" | wc -l)
expect_eq "blob requests authorised by the SAS alone" "$nb" "$ns"
expect_eq "armsim's blob.authorization counter" 0 "$(sim GET /_armsim/stats | jq '.["blob.authorization"]')"
na=$(jq -c 'select(.operationId != null and (.operationId | startswith("Blob_") | not) and .auth != "ok")' "$WORKDIR/log.json" | wc -l)
expect_eq "ARM requests without rpfs's token" 0 "$na"
pass
