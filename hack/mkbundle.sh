#!/usr/bin/env bash
# Build an OCI bundle for tests without downloading anything:
#   DIR/rootfs       busybox-static and its applets (hard links), /bin/payload, /etc/passwd
#                    and /etc/group (root and test uid 1000), empty mount points
#   DIR/config.json  `$FERRY spec` with process.terminal=false and
#                    process.args=["/bin/payload","sleep"]
#
# Usage: hack/mkbundle.sh DIR
# Environment:
#   FERRY          runtime whose `spec` writes config.json (default build/ferry)
#   FERRY_PAYLOAD  payload binary (default build/tests/payload)
#   BUSYBOX        static busybox (default /bin/busybox)
#   FERRY_ROOTFS_CACHE  where the rootfs template lives (default under $TMPDIR)
#
# Tests create many bundles, so the rootfs is built once into a template keyed
# by the payload and busybox it contains, and copied with cp -a.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
FERRY=${FERRY:-$repo/build/ferry}
FERRY_PAYLOAD=${FERRY_PAYLOAD:-$repo/build/tests/payload}
BUSYBOX=${BUSYBOX:-/bin/busybox}

die() {
	echo "mkbundle: $*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: $0 DIR"
dir=$1
command -v jq >/dev/null || die "jq is not installed (hack/deps.sh)"
[ -x "$FERRY_PAYLOAD" ] || die "$FERRY_PAYLOAD: no payload binary (run make)"
[ -x "$BUSYBOX" ] || die "$BUSYBOX: no busybox (apt-get install busybox-static)"
[ -x "$FERRY" ] || command -v "$FERRY" >/dev/null || die "$FERRY: no runtime binary"

# Fill an empty directory with the rootfs.
populate_rootfs() {
	local r=$1
	mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp,root,home/test}
	chmod 1777 "$r/tmp"
	chmod 0700 "$r/root"
	cp "$BUSYBOX" "$r/bin/busybox"
	cp "$FERRY_PAYLOAD" "$r/bin/payload"
	# Applets are hard links, not symlinks: busybox picks the applet from
	# argv[0] either way, and copying ~270 symlinks costs 0.3-0.5 s per
	# bundle on this disk where hard links cost 20 ms.
	local applet
	for applet in $("$BUSYBOX" --list); do
		[ "$applet" = busybox ] || [ -e "$r/bin/$applet" ] ||
			ln "$r/bin/busybox" "$r/bin/$applet"
	done
	cat >"$r/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		test:x:1000:1000:test user:/home/test:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$r/etc/group" <<-'EOF'
		root:x:0:
		test:x:1000:
		nogroup:x:65534:
	EOF
	chown 1000:1000 "$r/home/test"
}

# The template directory for this payload/busybox pair, built if missing.
# Built aside and renamed into place, so concurrent test runs never see half
# a template.
rootfs_template() {
	local cache=${FERRY_ROOTFS_CACHE:-${TMPDIR:-/tmp}/ferry-rootfs-cache}
	local key
	key=$(cat "$FERRY_PAYLOAD" "$BUSYBOX" | cksum | cut -d' ' -f1)
	local tmpl=$cache/rootfs-v2-$key
	if [ ! -d "$tmpl" ]; then
		mkdir -p "$cache"
		local work
		work=$(mktemp -d "$cache/.build.XXXXXX")
		populate_rootfs "$work/rootfs"
		mv -T "$work/rootfs" "$tmpl" 2>/dev/null || true
		rm -rf "$work"
	fi
	echo "$tmpl"
}

mkdir -p "$dir"
[ ! -e "$dir/rootfs" ] || die "$dir/rootfs already exists"
[ ! -e "$dir/config.json" ] || die "$dir/config.json already exists"
cp -a "$(rootfs_template)" "$dir/rootfs"

(cd "$dir" && "$FERRY" spec) || die "$FERRY spec failed"
[ -s "$dir/config.json" ] || die "$FERRY spec wrote no config.json in $dir"
jq '.process.terminal = false | .process.args = ["/bin/payload", "sleep"]' \
	"$dir/config.json" >"$dir/config.json.new" || die "jq could not edit $dir/config.json"
mv "$dir/config.json.new" "$dir/config.json"
