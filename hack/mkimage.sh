#!/usr/bin/env bash
# Build a container image of the test rootfs (busybox-static + /bin/payload,
# the same tree hack/mkbundle.sh makes) for real clients, without downloads:
#   DIR/rootfs.tar     the rootfs as one tar, for `podman import`
#   DIR/oci-image.tar  an OCI image layout (oci-layout, index.json, blobs/),
#                      one uncompressed layer, for `ctr images import`
#                      and `podman load`
#
# Usage: hack/mkimage.sh DIR [NAME]
#   NAME  the image reference recorded in index.json
#         (default docker.io/library/ferry-test:latest)
# Environment: as hack/mkbundle.sh (FERRY, FERRY_PAYLOAD, BUSYBOX).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)

die() {
	echo "mkimage: $*" >&2
	exit 1
}

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 DIR [NAME]"
dir=$1
name=${2:-docker.io/library/ferry-test:latest}
command -v jq >/dev/null || die "jq is not installed (hack/deps.sh)"
command -v sha256sum >/dev/null || die "sha256sum is missing (coreutils)"

mkdir -p "$dir"
work=$(mktemp -d "$dir/.mkimage.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$repo/hack/mkbundle.sh" "$work/bundle" >/dev/null

# Reproducible layer: sorted names, numeric owners, fixed times.
tar --sort=name --numeric-owner --mtime=@0 --format=posix \
	--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
	-C "$work/bundle/rootfs" -cf "$work/layer.tar" .
cp "$work/layer.tar" "$dir/rootfs.tar"

# Go's names for the architecture, which is what image configs carry.
case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
armv7l) arch=arm ;;
i?86) arch=386 ;;
*) arch=$(uname -m) ;;
esac

layout=$work/layout
blobs=$layout/blobs/sha256
mkdir -p "$blobs"

# put FILE: store FILE as a blob; prints "DIGEST SIZE".
put() {
	local sum size
	sum=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	cp "$1" "$blobs/$sum"
	echo "sha256:$sum $size"
}

read -r layer_digest layer_size < <(put "$work/layer.tar")

jq -n -c --arg arch "$arch" --arg diff "$layer_digest" '{
	architecture: $arch,
	os: "linux",
	config: {
		Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
		Cmd: ["/bin/payload", "sleep"],
		WorkingDir: "/"
	},
	rootfs: { type: "layers", diff_ids: [$diff] },
	history: [{ created_by: "hack/mkimage.sh" }]
}' >"$work/config.json"
read -r config_digest config_size < <(put "$work/config.json")

jq -n -c --arg cd "$config_digest" --argjson cs "$config_size" \
	--arg ld "$layer_digest" --argjson ls "$layer_size" '{
	schemaVersion: 2,
	mediaType: "application/vnd.oci.image.manifest.v1+json",
	config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs },
	layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $ld, size: $ls }]
}' >"$work/manifest.json"
read -r manifest_digest manifest_size < <(put "$work/manifest.json")

# containerd names the image after io.containerd.image.name; other tools
# read org.opencontainers.image.ref.name.
jq -n -c --arg md "$manifest_digest" --argjson ms "$manifest_size" \
	--arg name "$name" --arg arch "$arch" '{
	schemaVersion: 2,
	manifests: [{
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		digest: $md,
		size: $ms,
		platform: { architecture: $arch, os: "linux" },
		annotations: {
			"io.containerd.image.name": $name,
			"org.opencontainers.image.ref.name": $name
		}
	}]
}' >"$layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

tar --sort=name --numeric-owner --mtime=@0 --owner=0 --group=0 \
	-C "$layout" -cf "$dir/oci-image.tar" oci-layout index.json blobs
