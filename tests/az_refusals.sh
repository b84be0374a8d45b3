#!/bin/sh
# Refusals rpfs decides itself, without a request, each leave a line in
# .rpfs/errors that says what to do instead: a delete without
# allow_delete, a name ARM refuses, a collection name the group already
# holds, a source in the same region, a second copy of a point in a region.
. "$TESTS_SRCDIR/lib.sh"
. "$TESTS_SRCDIR/mut_lib.sh"

start_armsim --demo
mount_rpfs -o ttl=60
cd "$MNT" || fail "cd"
W=rpc-vm-web-01-weekly
P=rp-weekly-20261030
E=.rpfs/errors

# errline ERRNO-TEXT PATTERN: the last line of .rpfs/errors holds both.
errline() {
	local l
	l=$(grep -F -- "$2" "$E" | tail -1)
	[ -n "$l" ] || fail "no line with '$2' in .rpfs/errors: $(tail -3 "$E")"
	case $l in *"errno=$1"*) ;; *) fail "the line for '$2' lacks errno=$1: $l" ;; esac
}

mut_clear
expect_errno EPERM rmdir eastus/rg-prod/$W/$P
errline 'Operation not permitted' 'needs the mount option -o allow_delete: mount with it'

expect_errno EINVAL mkdir 'westus/rg-dev/bad:name'
errline 'Invalid argument' 'bad:name'
grep -F 'bad:name' "$E" | grep -q 'choose another name' || fail "no advice for a bad name: $(grep -F 'bad:name' "$E")"

expect_errno EEXIST mkdir westus/rg-prod/$W
errline 'File exists' 'westus/rg-prod/'"$W"
grep -F "westus/rg-prod/$W" "$E" | grep -q 'use another group or a new name' ||
	fail "no advice for a name the group holds: $(grep -F "westus/rg-prod/$W" "$E")"

# A pending collection whose named source is in its own region.
mkdir eastus/rg-dev/az-same || fail "mkdir of a pending collection"
expect_errno EINVAL sh -c "printf '%s\n' '$(mut_rpc rg-prod $W)' | tee eastus/rg-dev/az-same/source"
errline 'Invalid argument' 'make it under another region'"'"'s directory'

# A second copy of one point into the same region (another collection).
mkdir westus/rg-dev/az-copy1 westus/rg-dev/az-copy2 || fail "mkdir of two pending collections"
cp -r eastus/rg-prod/$W/$P westus/rg-dev/az-copy1/ || fail "the first copy of $P to westus"
expect_errno EEXIST cp -r eastus/rg-prod/$W/$P westus/rg-dev/az-copy2/
errline 'File exists' 'use that copy, or copy to another region'
pass
