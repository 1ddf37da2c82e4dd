#!/usr/bin/env bash
# Build the zdtm test programs (static: they run inside bare rootfs bundles)
# into $ZDTM_BUILD (default build/zdtm), each only when missing or older than
# its source or the library. Serial on purpose: the machines have 2 cores.
# Usage: tests/zdtm/build.sh [NAME...]   (default: every tests/zdtm/*.c test)
#        tests/zdtm/build.sh --list      print the names of the tests
# Prints nothing on success; the compiler's output and a non-zero exit on error.
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$src/../.." && pwd)
out=${ZDTM_BUILD:-$repo/build/zdtm}
CC=${CC:-cc}
cflags=(-static -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread)

# Test sources: every .c except the library and files owned by other suites.
list_tests() {
	local f n
	for f in "$src"/*.c; do
		n=$(basename "$f" .c)
		case $n in lib | cr-selftest-*) continue ;; esac
		echo "$n"
	done
}

if [ "${1:-}" = --list ]; then
	list_tests
	exit 0
fi

mkdir -p "$out"
lib=$out/lib.o
if [ ! -e "$lib" ] || [ "$src/lib.c" -nt "$lib" ] || [ "$src/lib.h" -nt "$lib" ]; then
	"$CC" "${cflags[@]}" -c -o "$lib" "$src/lib.c"
fi
if [ $# -eq 0 ]; then
	mapfile -t names < <(list_tests)
	set -- "${names[@]}"
fi
for n in "$@"; do
	[ -e "$src/$n.c" ] || { echo "zdtm build: no test $src/$n.c" >&2; exit 1; }
	bin=$out/$n
	if [ ! -e "$bin" ] || [ "$src/$n.c" -nt "$bin" ] || [ "$lib" -nt "$bin" ]; then
		"$CC" "${cflags[@]}" -o "$bin" "$src/$n.c" "$lib"
	fi
done
