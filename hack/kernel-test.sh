#!/usr/bin/env bash
# make kernel-test: build Debian's linux-source-6.12 with kernel-patches/*.patch
# applied and a small config (tinyconfig + kernel-patches/test/ferry.config),
# boot it in qemu (software emulation) with an initramfs whose /init is the
# static test program kernel-patches/test/ktest.c (and a static ferry for
# `ferry check`, plus static builds of ferry's unit tests that use the new
# interfaces: test-sigactions, test-seize, test-events), and print a
# pass/fail summary of what it reports.
#
# Long: the first build takes 15-30 minutes on 2 cores; later runs rebuild
# only what changed. Nothing is installed outside $KT_DIR except the Debian
# packages below; the kernel is only ever booted in qemu.
#
#   KT_DIR     work directory (default /var/tmp/ferry-kernel-test)
#   KT_JOBS    make -j (default 2); the build runs under nice -n 19
#   KT_TIMEOUT seconds the guest may run (default 900)
#   KT_FERRY   a static ferry to put in the initramfs (default: linked from
#              build/, which `make` must have built)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
KT_DIR=${KT_DIR:-/var/tmp/ferry-kernel-test}
KT_JOBS=${KT_JOBS:-2}
KT_TIMEOUT=${KT_TIMEOUT:-900}
tarball=/usr/src/linux-source-6.12.tar.xz
src=$KT_DIR/linux-source-6.12
applied=$KT_DIR/applied-patches
log=$KT_DIR/log

say() { printf 'kernel-test: %s\n' "$*"; }
die() {
	say "FAILED: $*" >&2
	exit 1
}

install_packages() {
	local pkgs=(linux-source-6.12 qemu-system-x86 build-essential bc flex bison
		libelf-dev libssl-dev cpio xz-utils gzip) missing=() p
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "need root to install ${missing[*]}"
	say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Extract once; afterwards swap patch sets in place: revert the applied
# patches from the first one that changed, apply the new ones from there, so
# that make rebuilds only what the changed patches touch.
prepare_source() {
	mkdir -p "$KT_DIR" "$log"
	if [ ! -e "$src/.ferry-extracted" ]; then
		say "extracting $tarball"
		rm -rf "$src" "$applied"
		tar -C "$KT_DIR" -xf "$tarball"
		touch "$src/.ferry-extracted"
	fi
	mkdir -p "$applied"
	local old=() new=() first=0 i
	shopt -s nullglob
	old=("$applied"/*.patch)
	new=(kernel-patches/*.patch)
	shopt -u nullglob
	while [ $first -lt ${#old[@]} ] && [ $first -lt ${#new[@]} ] &&
		[ "$(basename "${old[$first]}")" = "$(basename "${new[$first]}")" ] &&
		cmp -s "${old[$first]}" "${new[$first]}"; do
		first=$((first + 1))
	done
	if [ $first -eq ${#old[@]} ] && [ $first -eq ${#new[@]} ]; then
		say "patches already applied"
		return 0
	fi
	for ((i = ${#old[@]} - 1; i >= first; i--)); do
		say "reverting $(basename "${old[$i]}")"
		patch -d "$src" -p1 -R -s --no-backup-if-mismatch <"${old[$i]}" ||
			die "cannot revert $(basename "${old[$i]}") (rm -rf $src to start over)"
		rm "${old[$i]}"
	done
	for ((i = first; i < ${#new[@]}; i++)); do
		say "applying $(basename "${new[$i]}")"
		patch -d "$src" -p1 -s --no-backup-if-mismatch <"${new[$i]}" ||
			die "$(basename "${new[$i]}") does not apply"
		cp "${new[$i]}" "$applied/"
	done
}

configure() {
	local frag=kernel-patches/test/ferry.config stamp=$src/.ferry-config
	if [ -e "$src/.config" ] && cmp -s "$frag" "$stamp"; then
		return 0
	fi
	say "configuring (tinyconfig + $frag)"
	make -C "$src" -s ARCH=x86_64 tinyconfig >"$log/config.log" 2>&1
	(cd "$src" && scripts/kconfig/merge_config.sh -m .config "$repo/$frag") \
		>>"$log/config.log" 2>&1
	make -C "$src" -s ARCH=x86_64 olddefconfig >>"$log/config.log" 2>&1
	local opt bad=()
	while IFS= read -r opt; do
		case "$opt" in CONFIG_*=y) grep -qx "$opt" "$src/.config" || bad+=("$opt") ;; esac
	done <"$frag"
	[ ${#bad[@]} -eq 0 ] || die "options did not stick: ${bad[*]}"
	cp "$frag" "$stamp"
}

build_kernel() {
	say "building bzImage (nice -n 19 make -j$KT_JOBS; log: $log/build.log)"
	local t0=$SECONDS
	if ! nice -n 19 make -C "$src" ARCH=x86_64 -j"$KT_JOBS" bzImage >"$log/build.log" 2>&1; then
		tail -30 "$log/build.log" >&2
		die "kernel build failed"
	fi
	say "bzImage ready ($((SECONDS - t0)) s)"
}

# The initramfs: /init is the test program, /ferry a static ferry when one
# can be linked (the guest then also runs `ferry check`).
build_initramfs() {
	local root=$KT_DIR/initramfs
	rm -rf "$root"
	mkdir -p "$root"/{proc,sys,dev,tmp}
	cc -static -O2 -Wall -Wextra -Werror -o "$root/init" kernel-patches/test/ktest.c ||
		die "cannot build the test program"
	if [ -n "${KT_FERRY:-}" ]; then
		cp "$KT_FERRY" "$root/ferry"
		say "static ferry from $KT_FERRY included"
	elif [ -e build/runtime/main.o ] && [ -e build/libferry.a ] &&
		cc -static -o "$root/ferry" build/runtime/main.o build/libferry.a \
			-lyajl_s -lseccomp -lcap >"$log/ferry-static.log" 2>&1; then
		say "static ferry included"
	else
		say "no static ferry (run make first); ferry check is not run in the guest"
		rm -f "$root/ferry"
	fi
	# ferry's own unit tests of what the patches give it, on the real
	# files: the parser of /proc/PID/sigactions and cr_dump reading it;
	# cr_dump's tree walks with cgroup.tasks.events; the tasks records of
	# ferry events from it.
	local t
	for t in test-sigactions test-seize test-events; do
		if [ -e "build/tests/unit/$t.o" ] && [ -e build/libferry.a ] &&
			cc -static -o "$root/$t" "build/tests/unit/$t.o" \
				build/libferry.a -lyajl_s -lseccomp -lcap >>"$log/ferry-static.log" 2>&1; then
			say "static $t included"
		else
			rm -f "$root/$t"
		fi
	done
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$KT_DIR/initramfs.cpio.gz"
}

boot() {
	say "booting in qemu (software emulation, timeout ${KT_TIMEOUT}s; console: $log/console.log)"
	local t0=$SECONDS rc=0
	timeout "$KT_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 512 -smp 1 -nographic -no-reboot \
		-kernel "$src/arch/x86/boot/bzImage" -initrd "$KT_DIR/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet tsc=reliable clocksource=tsc" </dev/null >"$log/console.log" 2>&1 || rc=$?
	tr -d '\r' <"$log/console.log" >"$log/console.txt"
	say "guest ran $((SECONDS - t0)) s (qemu status $rc)"
}

summarize() {
	local out=$log/console.txt passed failed
	# The first line shares the console line with the firmware's escapes.
	sed -n 's/.*\(KTEST BEGIN\)/\1/; /^KTEST BEGIN/,/^KTEST END/p' "$out"
	passed=$(grep -c '^KTEST PASS' "$out" || true)
	failed=$(grep -c '^KTEST FAIL' "$out" || true)
	if ! grep -q '^KTEST END' "$out"; then
		say "the test program did not finish; last console lines:"
		tail -20 "$out"
		failed=$((failed + 1))
	fi
	echo "kernel-test: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}

install_packages
prepare_source
configure
build_kernel
build_initramfs
boot
summarize
