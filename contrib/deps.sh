#!/bin/sh
# contrib/deps.sh - install what rpfs needs to build, test and demo on
# Debian 12 (run as root).  Idempotent and quiet: packages already present
# are not fetched again.
set -eu

pkgs="build-essential autoconf automake libtool pkg-config
      libfuse3-dev fuse3 libcurl4-openssl-dev libjson-c-dev libmicrohttpd-dev
      curl ca-certificates openssl python3 attr man-db rsync valgrind systemd
      e2fsprogs"
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
