#!/usr/bin/env bash
# Build ferry's libFuzzer harnesses with clang and run each for a while.
#
#   hack/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS is per target (default 60); TARGETs are `image` (the checkpoint
# image reader, tests/unit/fuzz-image.c) and `config` (the config.json
# parsers, tests/unit/fuzz-config.c); default: both.
#
# Each target fuzzes a working corpus in build/fuzz/corpus-TARGET/, seeded
# from tests/fuzz/TARGET/ when that exists, and keeps what it found there
# for the next run. A finding (crash-*, leak-*, timeout-*, oom-*) lands in
# build/fuzz/artifacts-TARGET/ and makes the script exit non-zero; replay it
# with the gcc build of the harness (see the harness's header) and, once
# fixed, add it to tests/fuzz/TARGET/ as a regression input. To refresh the
# checked-in image corpus from a working corpus, keeping it small:
#   build/fuzz/fuzz-image -merge=1 NEWDIR tests/fuzz/image build/fuzz/corpus-image
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-60}
shift || true
[ $# -gt 0 ] || set -- image config
cc=${CLANG:-clang}
out=build/fuzz
# shellcheck disable=SC2054 # commas inside one flag
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
	-DFUZZ_WITH_LIBFUZZER -std=gnu11 -D_GNU_SOURCE -I. -Iruntime)

command -v "$cc" >/dev/null || {
	echo "fuzz: $cc not found (set CLANG=clang-14 or install clang)" >&2
	exit 1
}
mkdir -p "$out"

build() { # target -> echoes the binary
	local t=$1 bin=$out/fuzz-$1
	case $t in
	image)
		"$cc" "${flags[@]}" runtime/coordinator/image.c runtime/error.c \
			runtime/util.c tests/unit/fuzz-image.c -o "$bin" ;;
	config)
		# shellcheck disable=SC2046
		"$cc" "${flags[@]}" oci/config*.c runtime/error.c runtime/util.c \
			tests/unit/fuzz-config.c $(pkg-config --libs yajl) -o "$bin" ;;
	*)
		echo "fuzz: unknown target '$t' (image, config)" >&2
		return 1 ;;
	esac
	echo "$bin"
}

seed() { # target corpus-dir
	local t=$1 dir=$2
	if [ -d "tests/fuzz/$t" ]; then
		cp -n "tests/fuzz/$t"/* "$dir"/ 2>/dev/null || true
	fi
	if [ "$t" = config ] && [ -z "$(ls -A "$dir")" ]; then
		cat >"$dir/seed-minimal.json" <<'EOF'
{"ociVersion":"1.0.2","root":{"path":"rootfs","readonly":true},
 "process":{"terminal":false,"user":{"uid":0,"gid":0},"args":["sh","-c","true"],
  "env":["PATH=/bin"],"cwd":"/","rlimits":[{"type":"RLIMIT_NOFILE","soft":1024,"hard":1024}]},
 "hostname":"x","mounts":[{"destination":"/proc","type":"proc","source":"proc"}],
 "hooks":{"prestart":[{"path":"/bin/true","args":["true"]}]},
 "annotations":{"a":"b"},
 "linux":{"namespaces":[{"type":"pid"},{"type":"mount"}],
  "resources":{"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":1048576}}}}
EOF
	fi
}

max_len() {
	case $1 in
	image) echo 16384 ;; # a pages file needs its 4096-byte header
	*) echo 8192 ;;
	esac
}

status=0
for t in "$@"; do
	echo "fuzz: building $t"
	bin=$(build "$t")
	corpus=$out/corpus-$t
	artifacts=$out/artifacts-$t
	mkdir -p "$corpus" "$artifacts"
	seed "$t" "$corpus"
	echo "fuzz: $t for ${secs}s (corpus $corpus, findings in $artifacts/)"
	if ! "$bin" -max_total_time="$secs" -max_len="$(max_len "$t")" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$corpus" 2>"$out/$t.log"; then
		status=1
		echo "fuzz: $t FOUND A PROBLEM; log: $out/$t.log" >&2
		tail -n 40 "$out/$t.log" >&2
	fi
	grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::new_units_added)' \
		"$out/$t.log" || true
	echo "fuzz: $t: $(find "$corpus" -type f | wc -l) corpus inputs"
done
exit $status
