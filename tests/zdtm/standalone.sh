#!/usr/bin/env bash
# Validate the zdtm programs on the host, without checkpoint/restore: each test
# must PASS when nothing touches it, and must FAIL when its `zdtm-disturb:`
# header line breaks the state it checks from outside (so no test passes
# whatever happens). Prints TAP. Needs root (gdb attaches to the tests).
#
# Usage: tests/zdtm/standalone.sh [--pass-only|--disturb-only] [NAME...]
# The disturb command runs in bash with PID (the test's pid), DIR (where its
# ready and result files are), ZDTM_DIR (what the test got as ZDTM_DIR) and
# these helpers:
#   gdb_call 'EXPR' ...  call EXPR in the test (gdb, no debug info: cast calls)
#   gdb_do 'CMD' ...     run gdb commands attached to the test
#   child_of PID         the first child of PID
set -uo pipefail
src=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$src/../.." && pwd)
out=${ZDTM_BUILD:-$repo/build/zdtm}
PAYLOAD=${FERRY_PAYLOAD:-$repo/build/tests/payload}
timeout_s=${ZDTM_TIMEOUT:-30}
modes="pass disturb"
case ${1:-} in
--pass-only) modes=pass && shift ;;
--disturb-only) modes=disturb && shift ;;
esac

"$src/build.sh" "$@" >&2 || { echo "Bail out! zdtm build failed"; exit 1; }
if [ $# -eq 0 ]; then
	mapfile -t all < <("$src/build.sh" --list)
	set -- "${all[@]}"
fi

work=$(mktemp -d /tmp/zdtm-standalone.XXXXXX)
chmod 0755 "$work"
# Every test process has ZDTM_DIR=$work/... in its environment, even those
# that left our process group (setsid): that is how they are all found.
tagged_pids() {
	grep -lsz "^ZDTM_DIR=$1" /proc/[0-9]*/environ 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
}

kill_tagged() {
	local i pids
	for i in $(seq 50); do
		pids=$(tagged_pids "$1")
		[ -z "$pids" ] && return 0
		kill -9 $pids 2>/dev/null
		sleep 0.05
	done
	echo "standalone: processes left behind: $pids" >&2
}

cleanup() {
	kill_tagged "$work/"
	rm -rf --one-file-system "$work"
}
trap cleanup EXIT

# hdr FILE KEY: the value of KEY in the file's `// zdtm:` lines (commas kept).
hdr() {
	sed -n 's|^// zdtm: ||p' "$1" | tr ' ' '\n' | sed -n "s|^$2=||p" | head -1
}

# The process running the test binary: the wrapper itself or its descendant.
test_pid() {
	local p=$1 bin=$2 i c
	for i in 1 2 3; do
		[ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$bin" ] && { echo "$p"; return; }
		c=$(cat /proc/$p/task/*/children 2>/dev/null | awk '{ print $1; exit }')
		[ -n "$c" ] || break
		p=$c
	done
	echo "$1"
}

disturb_helpers='
gdb_do() { local a=() c; for c in "$@"; do a+=(-ex "$c"); done
	# Timer signals may arrive during a called function: let them through.
	timeout 60 gdb -p "$PID" -batch -nx -q -ex "handle all nostop noprint pass" \
		"${a[@]}" >"$DIR/gdb.log" 2>&1 ||
		{ cat "$DIR/gdb.log" >&2; return 1; }; }
gdb_call() { local a=() c; for c in "$@"; do a+=("call $c"); done; gdb_do "${a[@]}"; }
child_of() { cat /proc/$1/task/*/children | awk "{ print \$1; exit }"; }
'

n=0
# run_one NAME MODE: prints the verdict line of the result file, or why none.
run_one() {
	local name=$1 mode=$2 f=$src/$1.c dir wrap env chroot pid tpid i
	dir=$work/$name-$mode
	mkdir -p "$dir" && chmod 1777 "$dir"
	wrap=$(sed -n 's|^// zdtm-standalone: ||p' "$f")
	env=$(hdr "$f" env | tr ',' ' ')
	chroot=$(hdr "$f" chroot)
	local files=$dir${chroot:+/$chroot$dir}
	# outside=KIND (run.sh): the peer, here simply another host process; it
	# has ZDTM_DIR too, so it goes with the test's processes
	local outside
	outside=$(hdr "$f" outside)
	if [ -n "$outside" ]; then
		env ZDTM_DIR="$dir" "$PAYLOAD" unix-listen "$outside" "$dir/peer" >"$dir/peer.log" 2>&1 </dev/null &
		for ((i = 0; i < timeout_s * 20; i++)); do
			grep -qsx listening "$dir/peer.log" && break
			sleep 0.05
		done
		env+=" ZDTM_OUTSIDE=$dir/peer"
	fi
	# shellcheck disable=SC2046,SC2086 # the header's words are meant to split
	(cd "$dir" && exec env ZDTM_DIR="$dir" $env $wrap "$out/$name" $(hdr "$f" args | tr ',' ' ') \
		</dev/null >"$dir/out" 2>&1) &
	pid=$!
	for ((i = 0; i < timeout_s * 20; i++)); do
		[ -e "$files/zdtm-ready" ] || [ -e "$files/zdtm-result" ] || ! kill -0 "$pid" 2>/dev/null && break
		sleep 0.05
	done
	tpid=$(test_pid "$pid" "$out/$name")
	if [ -e "$files/zdtm-ready" ] && [ ! -e "$files/zdtm-result" ] && [ "$mode" = disturb ]; then
		local cmd
		cmd=$(sed -n 's|^// zdtm-disturb: ||p' "$f")
		if [ -z "$cmd" ]; then
			echo "NO-DISTURB: $f has no zdtm-disturb line"
		else
			PID=$tpid DIR=$files ZDTM_DIR=$dir bash -c "$disturb_helpers$cmd" >>"$dir/out" 2>&1 ||
				echo "# disturb command failed: $cmd" >>"$dir/out"
		fi
	fi
	kill -USR2 "$tpid" 2>/dev/null
	for ((i = 0; i < timeout_s * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill_tagged "$dir\$"
	wait "$pid" 2>/dev/null
	# A disturbed test may have written its result elsewhere (chroot moved).
	local result
	result=$(find "$dir" -name zdtm-result | head -1)
	if [ -n "$result" ] && [ -s "$result" ]; then
		head -1 "$result"
	elif [ -e "$files/zdtm-ready" ]; then
		echo "NO-RESULT: the test wrote no result within ${timeout_s}s"
	else
		echo "NO-READY: the test never became ready"
	fi
	sed 's/^/#   /' "$dir/out" >"$work/last-out"
}

for name in "$@"; do
	for mode in $modes; do
		n=$((n + 1))
		verdict=$(run_one "$name" "$mode")
		want=PASS
		[ "$mode" = disturb ] && want=FAIL
		case $verdict in
		SKIP*) echo "ok $n - zdtm/$name $mode # SKIP ${verdict#SKIP: }" ;;
		"$want"*) echo "ok $n - zdtm/$name $mode: $verdict" ;;
		*)
			echo "not ok $n - zdtm/$name $mode: wanted $want, got: $verdict"
			cat "$work/last-out"
			;;
		esac
	done
done
echo "1..$n"
