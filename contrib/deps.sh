#!/bin/sh
# contrib/deps.sh - install what rpfs needs to build, test and demo on
# Debian 12 (run as root), down to a minimal root (debootstrap
# --variant=minbase): every command the tests run comes from a package
# listed here.  Idempotent and quiet: packages already present are not
# fetched again.
#
# The tests of the official Azure SDK need node 20 or later; Debian 12
# ships node 18.  When the node on PATH is older, node 20 comes from the
# npm registry (the node-linux-ARCH package, pinned below) through Debian's
# npm, into $RPFS_NODE_PREFIX (default /usr/local/lib/rpfs-node, so nothing
# on PATH changes); tests/sdk_accept.sh looks for it there.
set -eu

node_version=20.20.2
node_prefix=${RPFS_NODE_PREFIX:-/usr/local/lib/rpfs-node}

# build: compilers, autotools, the libraries
# tests: curl, jq, openssl, python3 (armsim's control API and JSON checks),
#   procps (ps, and /bin/kill for the systemd unit), util-linux (mount,
#   mountpoint, runuser), passwd (useradd), attr (setfattr), rsync,
#   valgrind, systemd (systemd-analyze), man-db (the man page check),
#   strace (counting the system calls ls makes), e2fsprogs (mke2fs: the
#   ext4 images of the demo's disks), clang-format (the layout check),
#   fuse3 (fusermount3, mount.fuse3), nodejs + npm (the SDK test)
pkgs="build-essential autoconf automake libtool pkg-config
      libfuse3-dev fuse3 libcurl4-openssl-dev libjson-c-dev libmicrohttpd-dev
      curl ca-certificates openssl python3 jq procps util-linux mount passwd
      attr man-db rsync valgrind systemd strace
      e2fsprogs clang-format"
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"

# node_ok NODE: NODE runs and is version 20 or later.
node_ok() {
	"$1" -e 'process.exit(parseInt(process.versions.node) >= 20 ? 0 : 1)' >/dev/null 2>&1
}

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
need_node=0
if ! { command -v node >/dev/null 2>&1 && node_ok node; } && ! node_ok "$node_prefix/bin/node"; then
	need_node=1
fi
[ -z "$missing" ] && [ $need_node = 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	[ -n "$missing" ] && echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
	[ $need_node = 1 ] && echo "deps.sh: node 20 or later is missing (run as root to install it)" >&2
	exit 1
fi
if [ -n "$missing" ]; then
	echo "deps.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ $need_node = 1 ]; then
	case $(dpkg --print-architecture) in
	amd64) arch=x64 ;;
	arm64) arch=arm64 ;;
	ppc64el) arch=ppc64le ;;
	s390x) arch=s390x ;;
	*) echo "deps.sh: no node $node_version package for this architecture; the SDK test will skip" >&2
	   exit 0 ;;
	esac
	echo "deps.sh: installing node $node_version into $node_prefix (npm package node-linux-$arch)"
	tmp=$(mktemp -d)
	if ! npm_config_cache="$tmp/cache" npm install -g --prefix "$node_prefix" --no-audit --no-fund \
		--ignore-scripts --loglevel=error "node-linux-$arch@$node_version" >"$tmp/npm.log" 2>&1; then
		tail -20 "$tmp/npm.log" >&2
		rm -rf "$tmp"
		echo "deps.sh: could not install node $node_version from the npm registry" >&2
		exit 1
	fi
	rm -rf "$tmp"
	node_ok "$node_prefix/bin/node" || { echo "deps.sh: $node_prefix/bin/node does not run" >&2; exit 1; }
fi
