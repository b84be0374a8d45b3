#!/bin/sh
# sdk_accept.sh - the official Azure SDK for JavaScript accepts armsim.
#
# Starts armsim over HTTPS with a throwaway CA and server certificate made
# here with openssl (the SDK refuses bearer tokens over plain HTTP), registers
# a service principal, and runs tests/sdk/sdk-accept.js: token by client
# credentials, list all collections, get one with its points, create a
# cross-region collection, copy a point with the SDK's poller, follow the
# copy's progress, delete the copy and the collection, grant read access to
# a disk restore point and read its blob with the official
# @azure/storage-blob (a PageBlobClient from the SAS: properties, ranges,
# page ranges); once with @azure/arm-compute 24.x and once with 22.x, the two
# code generations of the SDK in use.
#
# The SDK comes from npm at the versions pinned in tests/sdk/package-lock.json.
# It is installed once into a cache keyed by the lock file's hash
# (RPFS_SDK_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/rpfs-sdk), so the test
# works from a read-only source tree (make distcheck) and installs only when
# the pins change.  No node, npm, openssl or registry: skip.

. "$TESTS_SRCDIR/lib.sh"

SDK_SRC=$TESTS_SRCDIR/sdk
TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
CLIENT_ID=3f1c2a9e-7d4b-4e61-a0c5-9b8e2d7f6a14
CLIENT_SECRET="sdk-accept-$$-secret"

need_armsim
command -v node >/dev/null || skip "no node"
command -v npm >/dev/null || skip "no npm"
command -v openssl >/dev/null || skip "no openssl"
node -e 'process.exit(parseInt(process.versions.node) >= 20 ? 0 : 1)' || skip "node older than 20"

# sdk_modules: print a node_modules directory holding the pinned SDK,
# installing it with npm ci when the cache lacks it.
sdk_modules() {
	local hash base dir tmp
	hash=$(sha256sum "$SDK_SRC/package-lock.json" | cut -c1-16)
	base=${RPFS_SDK_CACHE:-${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}/rpfs-sdk}
	if ! mkdir -p "$base" 2>/dev/null || [ ! -w "$base" ]; then
		base=$WORKDIR/sdk-cache
		mkdir -p "$base"
	fi
	dir=$base/$hash
	if [ -f "$dir/.complete" ]; then
		printf '%s\n' "$dir/node_modules"
		return 0
	fi
	tmp=$(mktemp -d "$base/install.XXXXXX") || return 1
	cp "$SDK_SRC/package.json" "$SDK_SRC/package-lock.json" "$tmp/"
	log "installing the pinned Azure SDK into $dir"
	if ! (cd "$tmp" && npm_config_cache="$base/npm-cache" timeout 300 \
		npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
		--fetch-retries=1 --fetch-timeout=60000) >"$WORKDIR/npm.log" 2>&1; then
		tail -20 "$WORKDIR/npm.log" >&2
		rm -rf "$tmp"
		return 1
	fi
	touch "$tmp/.complete"
	# Another run may have finished first: keep its copy.
	if ! mv -T "$tmp" "$dir" 2>/dev/null; then
		rm -rf "$tmp"
	fi
	[ -f "$dir/.complete" ] || return 1
	printf '%s\n' "$dir/node_modules"
}

MODULES=$(sdk_modules) || skip "npm ci failed (registry unreachable?)"

# A CA and a server certificate for 127.0.0.1, valid for two days.
TLS=$WORKDIR/tls
mkdir -p "$TLS"
(
	cd "$TLS" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout ca.key -out ca.pem \
		-subj "/CN=rpfs sdk_accept test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" &&
	openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" &&
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >server.ext &&
	openssl x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-extfile server.ext -out server.pem
) >"$WORKDIR/openssl.log" 2>&1 || { cat "$WORKDIR/openssl.log" >&2; fail "openssl could not make the test certificates"; }

# Small pages with empty ones between them exercise the SDK's pager; a long
# copy lets the SDK read progress below 100% before the clock ends it; a
# short Retry-After keeps the SDK's pollers (which obey it) quick.
CREATE_SECONDS=5
COPY_SECONDS=600
start_armsim --demo --tls-cert "$TLS/server.pem" --tls-key "$TLS/server.key" \
	--client "$CLIENT_ID:$CLIENT_SECRET" --tenant "$TENANT" --retry-after 1 \
	--page-size 4 --empty-pages --create-seconds "$CREATE_SECONDS" --copy-seconds "$COPY_SECONDS"
ARMSIM_URL=https://127.0.0.1:$ARMSIM_PORT
CURL_CA_BUNDLE=$TLS/ca.pem
export ARMSIM_URL CURL_CA_BUNDLE

# armsim answers over HTTPS with the certificate made above.
check "armsim over HTTPS" sim GET /_armsim/stats >/dev/null

# The script runs from the work directory next to the cached modules, so a
# node_modules left in the source tree cannot change what is tested.
cp "$SDK_SRC/sdk-accept.js" "$WORKDIR/sdk-accept.js"
ln -s "$MODULES" "$WORKDIR/node_modules"

# Both generations of the SDK: 24.x (TypeSpec, core-lro 3) with
# @azure/identity's ClientSecretCredential (MSAL: OpenID discovery, then the
# token endpoint), and 22.x (AutoRest, core-lro 2) with a minimal
# TokenCredential posting the same client-credentials form; each against a
# freshly reset armsim.
for run in 24:identity 22:simple; do
	sdk=${run%:*}
	check "armsim reset" sim POST /_armsim/reset >/dev/null
	NODE_EXTRA_CA_CERTS=$TLS/ca.pem timeout 180 node "$WORKDIR/sdk-accept.js" --sdk "$sdk" \
		--credential "${run#*:}" \
		--endpoint "$ARMSIM_URL" --subscription "$DEMO_SUB" --tenant "$TENANT" \
		--client-id "$CLIENT_ID" --client-secret "$CLIENT_SECRET" \
		--create-seconds "$CREATE_SECONDS" --copy-seconds "$COPY_SECONDS" ||
		fail "@azure/arm-compute $sdk.x does not accept armsim (see above)"
done
pass
