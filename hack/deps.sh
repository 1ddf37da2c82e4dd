#!/usr/bin/env bash
# Install every Debian package ferry's build, tests, demo and benchmarks need.
# Idempotent and quiet when everything is already there.
set -euo pipefail

pkgs=(
	build-essential pkg-config
	libyajl-dev libseccomp-dev libcap-dev
	libarchive-dev libcurl4-openssl-dev libmicrohttpd-dev
	bats jq busybox-static iproute2 procps util-linux
	runc crun
	podman containerd conmon
	criu # only for podman's version probe before checkpoint; ferry never runs it
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: must run as root to install packages" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
