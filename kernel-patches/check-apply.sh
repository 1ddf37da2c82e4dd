#!/usr/bin/env bash
# Do kernel-patches/*.patch apply, in order, to Debian's linux-source-6.12?
# Extracts only the files the patches touch (cached under $KP_CACHE, keyed
# by the tarball's size and mtime: the first run reads the whole 150 MB
# archive, later runs take milliseconds), then per patch: patch --dry-run,
# and apply it to the scratch copy so the next patch sees it.
# Exit status: 0 all apply, 1 one does not, 77 the source package is not
# installed (apt-get install linux-source-6.12).
set -euo pipefail
cd "$(dirname "$0")"
tarball=${KP_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
cache=${KP_CACHE:-/var/tmp/ferry-patch-check}
top=linux-source-6.12

if [ ! -r "$tarball" ]; then
	echo "skip: $tarball not installed (apt-get install linux-source-6.12)"
	exit 77
fi
patches=(*.patch)
files=$(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "${patches[@]}" | sort -u)
key=$(stat -c '%s-%Y' "$tarball")-$(echo "$files" | sha256sum | cut -c1-12)
pristine=$cache/$key
if [ ! -d "$pristine" ]; then
	rm -rf "$cache"
	mkdir -p "$pristine.tmp"
	mapfile -t members <<<"$files"
	members=("${members[@]/#/$top/}")
	tar -xJf "$tarball" -C "$pristine.tmp" "${members[@]}"
	mv "$pristine.tmp" "$pristine"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$pristine/$top" "$work/"
status=0
for p in "${patches[@]}"; do
	if out=$(patch -d "$work/$top" -p1 --dry-run -s <"$p" 2>&1) &&
		patch -d "$work/$top" -p1 -s --no-backup-if-mismatch <"$p" >/dev/null 2>&1; then
		echo "ok: $p applies to $(basename "$tarball" .tar.xz) ($(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo '?'))"
	else
		echo "FAIL: $p does not apply:"
		echo "$out"
		status=1
	fi
done
exit $status
