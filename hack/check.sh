#!/usr/bin/env bash
# Run every test: unit tests (TAP) and bats integration tests (TAP), then print
# one summary line "N passed, N failed, N skipped" and exit non-zero on any
# failure. Usage: hack/check.sh BUILD_DIR [bats files...]
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
export FERRY_BUILD=$PWD/$build
export FERRY=$PWD/$build/ferry
# the container payload of this build (SANITIZE=1 builds into build-asan)
export FERRY_PAYLOAD=$PWD/$build/tests/payload

passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # reads TAP on stdin, echoes it, adds to the counters
	while IFS= read -r line; do
		printf '%s\n' "$line"
		case "$line" in
		"not ok"*) failed=$((failed + 1)) ;;
		"ok "*"# skip"* | "ok "*"# SKIP"*) skipped=$((skipped + 1)) ;;
		"ok "*) passed=$((passed + 1)) ;;
		esac
	done
}

run_tap() { # name, command...: a crash or non-zero exit without a "not ok" counts as one failure
	local name=$1
	shift
	echo "# $name"
	local before=$failed
	"$@" >"$log" 2>&1
	local rc=$?
	count <"$log"
	if [ $rc -ne 0 ] && [ $failed -eq $before ]; then
		echo "not ok - $name exited with status $rc"
		failed=$((failed + 1))
	fi
}

everything=0
if [ $# -eq 0 ]; then
	everything=1
	for t in "$build"/tests/test-*; do
		[ -x "$t" ] && run_tap "unit $(basename "$t")" "$t"
	done
	set -- tests/integration/*.bats
fi
for f in "$@"; do
	[ -e "$f" ] && run_tap "bats $f" bats --tap "$f"
done
# The coordinator's zdtm programs through checkpoint/restore (and
# --leave-running, pre-dumps, and a chain punched by --auto-dedup) in real
# containers.
[ $everything -eq 0 ] || run_tap "zdtm" tests/zdtm/run.sh --variants "cr leave-running pre-dump dedup"
# The memory tests again with images on a tmpfs of large folios (page files
# in folios of up to 1 MiB rather than 4 KiB pages), the fast place for them,
# also through --auto-dedup's punching of the parents (dedup).
[ $everything -eq 0 ] || run_tap "zdtm, large folios" tests/zdtm/run.sh \
	--variants "cr pre-dump dedup" --images-tmpfs huge=within_size \
	bigmem mmap-shared memfd cow dirty-memory mmap-file-private madvise heap mmap-anon \
	tree-wide threads zombie

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
