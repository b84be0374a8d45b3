#!/bin/sh
# Answers from the server are checked before they are shown:
#  - a collection whose location (5,000 characters) cannot be a file name
#    is skipped with a log line, and the root listing and the rest work;
#  - a collection GET answered with another collection, or one of another
#    subscription, is refused (EIO), never shown under the path asked;
#  - a NUL inside a tag value (JSON \u0000) is kept whole: `tags` shows it
#    %00, writing the text back sends nothing, another edit sends it again;
#  - control bytes in a name a user gives are escaped in the log.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/rel_lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"

start_armsim --demo
API=api-version=2025-04-01
LIST="/subscriptions/$DEMO_SUB/providers/Microsoft.Compute/restorePointCollections"
WEB=$(rpc_path rg-prod rpc-vm-web-01)
SQL=$(rpc_path rg-prod rpc-vm-sql-01)

# body_rule OPERATION PATH-PREFIX BODY: answer with BODY.
body_rule() {
	fault "{\"match\":{\"operationId\":\"$1\",\"path_prefix\":\"$2\"},\"kind\":\"body\",\"body\":$(printf '%s' "$3" | jq -Rs .)}"
}

# 1. A location that cannot be a file name.
body=$(arm GET "$LIST?$API" | jq -c '.value[0].location = ("x" * 5000)')
body_rule RestorePointCollections_ListAll "$LIST" "$body"
mount_rpfs -o retries=1
ls "$MNT" >"$WORKDIR/root" || fail "the root listing fails with a 5,000-character location"
grep -q xxxxxxxx "$WORKDIR/root" && fail "the 5,000-character location is listed"
ls -lR "$MNT" >/dev/null || fail "walk with one unshowable collection"
grep -q 'cannot be shown.*skipped' "$RPFS_LOG" || fail "no log line for the skipped collection"
umount_rpfs
clear_faults

# 2. A collection GET that describes another collection or subscription.
mount_rpfs -o retries=1
ls "$MNT/eastus/rg-prod" >/dev/null || fail "listing eastus/rg-prod"
body_rule RestorePointCollections_Get "$WEB" "$(arm GET "$SQL?$API&\$expand=restorePoints")"
rel_flush
expect_errno EIO ls "$MNT/eastus/rg-prod/rpc-vm-web-01"
grep -q 'the answer describes .*rpc-vm-sql-01 instead' "$RPFS_LOG" || fail "no log line for the wrong answer"
clear_faults
other=$(arm GET "$WEB?$API&\$expand=restorePoints" | sed "s/$DEMO_SUB/00000000-0000-0000-0000-000000000000/g")
body_rule RestorePointCollections_Get "$WEB" "$other"
rel_flush
expect_errno EIO ls "$MNT/eastus/rg-prod/rpc-vm-web-01"
clear_faults
rel_flush
ls "$MNT/eastus/rg-prod/rpc-vm-web-01" | grep -q '^rp-' || fail "no recovery after the wrong answers"

# 3. A NUL inside a tag value (armsim keeps no NUL: the answers carry it).
T=$MNT/eastus/rg-prod/rpc-vm-web-01/tags
tags='{"k":"a\u0000b","env":"prod"}'
body_rule RestorePointCollections_ListAll "$LIST" \
	"$(arm GET "$LIST?$API" | jq -c "(.value[] | select(.name == \"rpc-vm-web-01\") | .tags) = $tags")"
body_rule RestorePointCollections_Get "$WEB" "$(arm GET "$WEB?$API&\$expand=restorePoints" | jq -c ".tags = $tags")"
rel_flush
expect_eq "tags with a NUL" "env=prod
k=a%00b" "$(LC_ALL=C sort "$T")"
cat "$T" >"$WORKDIR/tags" || fail "reading tags"
mut_clear
cat "$WORKDIR/tags" >"$T" || fail "writing the tags back"
mut_no_writes "writing back tags that hold a NUL"
echo new=1 >>"$T" || fail "appending a tag"
got=$(sim GET /_armsim/log | jq -c 'select(.method == "PATCH") | .body.tags | to_entries | sort_by(.key)')
expect_eq "PATCH after an edit" '[{"key":"env","value":"prod"},{"key":"k","value":"a\u0000b"},{"key":"new","value":"1"}]' "$got"
# %FF is no UTF-8 (and how rpfs keeps a NUL inside): refused.
python3 - "$T" <<'PY' || fail "k=%FF was not refused with EINVAL at close"
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"k=%FF\n")
try:
    os.close(fd)
except OSError as e:
    sys.exit(0 if e.errno == errno.EINVAL else 1)
sys.exit(1)
PY
clear_faults

# 4. Control bytes in a user's name are escaped in the log.
esc=$(printf '\033')
expect_errno EINVAL mkdir "$MNT/westus2/rg-prod/bad${esc}[31m:name"
grep -q "$esc" "$RPFS_LOG" && fail "a raw ESC byte reached the log"
grep -q 'bad\\x1b\[31m:name' "$RPFS_LOG" || fail "the name is not in the log, escaped"
pass
