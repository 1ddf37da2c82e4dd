#!/usr/bin/env bash
# ferry's benchmarks (`make bench`; not part of `make check`): ferry side by
# side with runc and crun, whichever of them is on PATH.
#
# Rows (lower is better on every row):
#   run /bin/true      `run` of a container whose process is /bin/true: create,
#                      start, wait for the exit, delete, all in one command
#   create/start/delete  the lifecycle verbs one by one, on a container whose
#                      process is `payload sleep`, so it is still alive when
#                      `start` returns. Between start and delete the container
#                      is killed (SIGKILL) and awaited until `state` says
#                      stopped; that part is not timed, so `delete` measures
#                      the tear-down of a stopped container (state dir,
#                      cgroups), the same work for every runtime.
#   CPU                user + system time of the runtime command and what it
#                      reaped (wait4()'s rusage), for `run`
#   peak RSS           wait4()'s ru_maxrss of the runtime command: its largest
#                      resident set, or that of a descendant it reaped (for
#                      `run`, the container's init before its exec)
#   init RSS, created  VmRSS of the process that holds a created container
#                      between `create` and `start` (runc: `runc init`)
#   threads            Threads: in /proc of the runtime and of the container's
#                      init, read by a createRuntime hook, i.e. while the
#                      namespaces and mounts are being set up; and with strace,
#                      how many threads (clone with CLONE_THREAD) a whole `run`
#                      starts
#   binary sizes       the file as installed/built, stripped, and stripped plus
#                      its `ldd` closure of shared libraries
# Rows marked "*" are for information and not part of the target "ferry at or
# below crun": the file as built (ferry's has -g debug info, Debian's runtimes
# are stripped) and the number of libraries.
#
# What makes the comparison fair:
#   - every runtime gets the same rootfs and the same config.json (`ferry spec`
#     with process.terminal=false), apart from its own cgroupsPath; ociVersion
#     is set to 1.0.2 because Debian's crun 1.8.1 refuses "1.2.0" ("unknown
#     version specified");
#   - each runtime has a private --root under this run's temp dir;
#   - iterations are interleaved (ferry, runc, crun, ferry, ...) so a burst of
#     load from elsewhere on the machine hits every runtime alike, and the
#     first BENCH_WARMUP iterations are discarded;
#   - times are wall clock, from just before fork() to just after wait4() in
#     hack/bench/timeit.c: exec, dynamic loading and the whole command.
#   - Debian's crun refuses a hybrid cgroup host ("cgroups in hybrid mode not
#     supported"). When it does, crun runs in a private mount namespace with a
#     tmpfs over /sys/fs/cgroup/unified, so it sees plain cgroup v1; the host's
#     mounts are untouched. The timing helper joins that namespace before its
#     clock starts, so the namespace costs crun nothing.
#
# Usage: hack/bench.sh            (as root; `make` first)
# Environment:
#   BENCH_N         measured iterations per runtime (default 50)
#   BENCH_WARMUP    discarded iterations first (default 2)
#   BENCH_RUNTIMES  which runtimes to try (default "ferry runc crun")
#   BENCH_CR        0 skips the checkpoint/restore part (hack/bench-cr.sh,
#                   which has its own BENCH_CR_* settings)
#   FERRY           ferry binary (default build/ferry)
#
# Everything it makes (containers, cgroups, the namespace holder, the temp dir)
# is removed on exit, also on failure or ^C.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
FERRY=${FERRY:-$repo/build/ferry}
N=${BENCH_N:-50}
WARMUP=${BENCH_WARMUP:-2}
RUNTIMES=${BENCH_RUNTIMES:-ferry runc crun}

die() {
	echo "bench: $*" >&2
	exit 1
}
note() { echo "bench: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (containers, cgroups)"
[ -x "$FERRY" ] || die "$FERRY: no ferry binary (run make)"
command -v jq >/dev/null || die "jq is not installed (hack/deps.sh)"
command -v cc >/dev/null || die "no C compiler (hack/deps.sh)"
case "$N$WARMUP" in *[!0-9]*) die "BENCH_N and BENCH_WARMUP must be numbers" ;; esac
[ "$N" -ge 1 ] || die "BENCH_N must be at least 1"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench.XXXXXX")
tag=ferry-bench-$$ # container ids and cgroup names: unique on this host
declare -A BIN=() NS=()
names=()     # runtimes in use, in table order
holder_pid=  # the process that keeps crun's private mount namespace alive
crun_note=

# ---- clean-up: runs on every exit ----

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	local n id
	for n in "${!BIN[@]}"; do
		[ -d "$tmp/root-$n" ] || continue
		for id in $(rt "$n" list -q 2>/dev/null); do
			rt "$n" delete --force "$id" >/dev/null 2>&1
		done
	done
	if [ -n "$holder_pid" ]; then
		kill "$holder_pid" 2>/dev/null
		wait "$holder_pid" 2>/dev/null
	fi
	# Whatever a runtime failed to remove: our cgroups, in every hierarchy.
	local cg
	for cg in /sys/fs/cgroup/*/"$tag"-* /sys/fs/cgroup/"$tag"-*; do
		[ -d "$cg" ] || continue
		xargs -r kill -9 <"$cg/cgroup.procs" 2>/dev/null
		for _ in 1 2 3 4 5; do
			rmdir "$cg" 2>/dev/null && break
			sleep 0.1
		done
		[ -d "$cg" ] && note "could not remove cgroup $cg"
	done
	# Never rm -rf through a mount point.
	if grep -q " ${tmp}[/ ]" /proc/self/mountinfo; then
		note "mounts left under $tmp; leaving it in place"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ---- running the runtimes ----

# rt NAME ARGS...: runtime NAME with its private root, untimed.
rt() {
	local n=$1
	shift
	"$tmp/timeit" ${NS[$n]:+-n "${NS[$n]}"} -- "${BIN[$n]}" --root "$tmp/root-$n" "$@"
}

# timed NAME LABEL ARGS...: one timed command; its sample goes to
# samples-NAME. On failure, print the command, its status and its output.
timed() {
	local n=$1 label=$2
	shift 2
	local rc=0
	"$tmp/timeit" ${NS[$n]:+-n "${NS[$n]}"} -o "$tmp/samples-$n" -l "$label" -- \
		"${BIN[$n]}" --root "$tmp/root-$n" "$@" </dev/null >"$tmp/out" 2>&1 || rc=$?
	if [ $rc -ne 0 ]; then
		echo "bench: FAILED ($n, exit status $rc): ${BIN[$n]} --root $tmp/root-$n $*" >&2
		sed 's/^/bench:   /' "$tmp/out" >&2
		exit 1
	fi
}

status_of() { rt "$1" state "$2" 2>/dev/null | jq -r '.status // empty' 2>/dev/null || true; }
pid_of() { rt "$1" state "$2" | jq -r '.pid'; }

wait_stopped() {
	local n=$1 id=$2 i
	for ((i = 0; i < 500; i++)); do
		[ "$(status_of "$n" "$id")" = stopped ] && return 0
		sleep 0.01
	done
	die "$n: container $id did not stop within 5 s"
}

# ---- set-up ----

build_helper() {
	cc -O2 -Wall -Wextra -Werror -o "$tmp/timeit" "$repo/hack/bench/timeit.c" ||
		die "cannot build hack/bench/timeit.c"
}

# One rootfs for everybody; a bundle per runtime and process kind.
make_bundles() {
	FERRY="$FERRY" "$repo/hack/mkbundle.sh" "$tmp/base" >/dev/null
	cat >"$tmp/hook.sh" <<-'EOF'
		#!/bin/sh
		# createRuntime hook: record the thread counts of the runtime (our
		# parent) and of the container's init (the pid in the state on stdin).
		pid=$(cat | sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p')
		threads() { sed -n 's/^Threads:[[:space:]]*//p' "/proc/$1/status"; }
		echo "runtime $(cat /proc/$PPID/comm) $(threads $PPID)" >>"$1"
		echo "init $(cat /proc/$pid/comm) $(threads $pid)" >>"$1"
	EOF
	chmod 755 "$tmp/hook.sh"
	local n
	for n in "${names[@]}"; do
		bundle "$n" true '["/bin/true"]' '{}'
		bundle "$n" sleep '["/bin/payload","sleep"]' '{}'
		bundle "$n" hook '["/bin/true"]' \
			"{\"createRuntime\":[{\"path\":\"$tmp/hook.sh\",\"args\":[\"hook.sh\",\"$tmp/threads-$n\"]}]}"
	done
}

# bundle NAME KIND ARGS_JSON HOOKS_JSON -> $tmp/b-NAME-KIND
bundle() {
	local d=$tmp/b-$1-$2
	mkdir -p "$d"
	jq --arg root "$tmp/base/rootfs" --arg cg "/$tag-$1" \
		--argjson args "$3" --argjson hooks "$4" \
		'.ociVersion = "1.0.2" | .root.path = $root | .process.args = $args
		 | .linux.cgroupsPath = $cg | .hooks = $hooks' \
		"$tmp/base/config.json" >"$d/config.json"
}

# Debian's crun refuses hybrid cgroups; if so, give it a private mount
# namespace where /sys/fs/cgroup/unified is an empty tmpfs.
setup_crun() {
	local id=$tag-probe
	if rt crun run --bundle "$tmp/b-crun-true" "$id" </dev/null >"$tmp/out" 2>&1; then
		crun_note="crun ran in the host's mount namespace"
		return 0
	fi
	rt crun delete --force "$id" >/dev/null 2>&1 || true
	grep -q hybrid "$tmp/out" || {
		note "crun does not work here, leaving it out:"
		sed 's/^/bench:   /' "$tmp/out" >&2
		return 1
	}
	note "crun refuses this host's hybrid cgroups: $(head -n1 "$tmp/out")"
	# shellcheck disable=SC2016 # $1 belongs to the inner shell
	unshare --mount --propagation private sh -c '
		mount -t tmpfs -o size=64k,mode=755 ferry-bench /sys/fs/cgroup/unified &&
		touch "$1" && exec sleep 100000' sh "$tmp/ns-ready" &
	holder_pid=$!
	local i
	for ((i = 0; i < 100; i++)); do
		[ -e "$tmp/ns-ready" ] && break
		kill -0 "$holder_pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -e "$tmp/ns-ready" ] || die "could not set up a private mount namespace for crun"
	NS[crun]=$holder_pid
	if ! rt crun run --bundle "$tmp/b-crun-true" "$id" </dev/null >"$tmp/out" 2>&1; then
		note "crun fails even with a tmpfs over /sys/fs/cgroup/unified, leaving it out:"
		sed 's/^/bench:   /' "$tmp/out" >&2
		return 1
	fi
	crun_note="crun ran in a private mount namespace with a tmpfs over /sys/fs/cgroup/unified (it refuses hybrid cgroups)"
}

find_runtimes() {
	local n path
	for n in $RUNTIMES; do
		case $n in
		ferry) # a snapshot: a rebuild during the run must not change it
			mkdir -p "$tmp/bin"
			cp "$FERRY" "$tmp/bin/ferry"
			path=$tmp/bin/ferry ;;
		runc | crun) path=$(command -v "$n") || {
			note "$n is not installed; no $n column"
			continue
		} ;;
		*) die "unknown runtime '$n' in BENCH_RUNTIMES" ;;
		esac
		BIN[$n]=$path
		names+=("$n")
		mkdir -p "$tmp/root-$n"
		: >"$tmp/samples-$n"
	done
	[ -n "${BIN[ferry]:-}" ] || die "BENCH_RUNTIMES must include ferry"
}

drop_runtime() {
	local n=$1 keep=() x
	for x in "${names[@]}"; do [ "$x" = "$n" ] || keep+=("$x"); done
	names=("${keep[@]}")
}

# ---- measuring ----

# One iteration for runtime NAME; PFX is "" or "warm-" (discarded).
iteration() {
	local n=$1 i=$2 pfx=$3 id=$tag-$1-$2
	timed "$n" "${pfx}run" run --bundle "$tmp/b-$n-true" "$id-r"

	timed "$n" "${pfx}create" create --bundle "$tmp/b-$n-sleep" "$id-l"
	local pid rss
	pid=$(pid_of "$n" "$id-l")
	rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status")
	echo "${pfx}initrss 0 ${rss:-0} 0 0" >>"$tmp/samples-$n"
	timed "$n" "${pfx}start" start "$id-l"
	rt "$n" kill "$id-l" KILL
	wait_stopped "$n" "$id-l"
	timed "$n" "${pfx}delete" delete "$id-l"
}

measure_threads() {
	local n=$1 i
	for i in 1 2 3; do
		rt "$n" run --bundle "$tmp/b-$n-hook" "$tag-$n-hook$i" </dev/null >"$tmp/out" 2>&1 || {
			note "$n: run with a createRuntime hook failed:"
			sed 's/^/bench:   /' "$tmp/out" >&2
			return 0
		}
	done
	command -v strace >/dev/null || return 0
	"$tmp/timeit" ${NS[$n]:+-n "${NS[$n]}"} -- strace -f -qq -o "$tmp/strace-$n" \
		-e trace=clone,clone3 "${BIN[$n]}" --root "$tmp/root-$n" \
		run --bundle "$tmp/b-$n-true" "$tag-$n-strace" </dev/null >/dev/null 2>&1 || true
}

# ---- reporting ----

# sample_stat NAME LABEL FIELD(2=us,3=kb,5=cpu us) WHICH(median|p90) -> number, or empty
sample_stat() {
	awk -v l="$2" -v f="$3" '$1 == l { print $f }' "$tmp/samples-$1" | sort -n |
		awk -v w="$4" '{ v[NR] = $1 }
		END {
			if (NR == 0) exit
			if (w == "p90") { k = int(NR * 0.9); if (k < NR * 0.9) k++; print v[k] }
			else if (NR % 2) print v[(NR + 1) / 2]
			else print (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

# Thread counts from the hook: max over the runs of WHO (runtime|init).
hook_threads() {
	[ -s "$tmp/threads-$1" ] || return 0
	awk -v w="$2" '$1 == w && $3 > m { m = $3 } END { if (m) print m }' "$tmp/threads-$1"
}
hook_comm() {
	[ -s "$tmp/threads-$1" ] || return 0
	awk -v w="$2" '$1 == w { print $2; exit }' "$tmp/threads-$1"
}
strace_threads() {
	[ -s "$tmp/strace-$1" ] || return 0
	grep -c CLONE_THREAD "$tmp/strace-$1" || true
}

# Sizes in KiB: file, stripped, stripped + ldd closure; and the library count.
sizes() {
	local bin
	bin=$(readlink -f "${BIN[$1]}")
	local file stripped libs=0 nlibs=0 lib
	file=$(stat_size "$bin")
	strip -o "$tmp/stripped-$1" "$bin" 2>/dev/null && stripped=$(stat_size "$tmp/stripped-$1") ||
		stripped=$file
	for lib in $(ldd "$bin" 2>/dev/null | awk '/=> \// { print $3 } /^\t\// { print $1 }' |
		xargs -r readlink -f | sort -u); do
		libs=$((libs + $(stat_size "$lib")))
		nlibs=$((nlibs + 1))
	done
	echo "$((file / 1024)) $((stripped / 1024)) $(((stripped + libs) / 1024)) $nlibs"
}
stat_size() { stat -c %s "$1"; }

ms() { [ -z "$1" ] || awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }

# One table row: LABEL then a value per runtime ("" = not measured).
row() {
	local label=$1
	shift
	local -A v=()
	local n
	for n in "${names[@]}"; do
		v[$n]=$1
		shift
	done
	printf '%-34s' "$label"
	for n in "${names[@]}"; do printf ' %10s' "${v[$n]:--}"; done
	local other r
	for other in crun runc; do
		contains "$other" || continue
		r=$(ratio "${v[ferry]}" "${v[$other]}")
		printf ' %10s' "${r:--}"
		if [ "$other" = crun ] && [ -n "$r" ] && [ "${label%\*}" = "$label" ] && awk -v r="$r" 'BEGIN { exit !(r > 1.0) }'; then
			worse+=("$label ($r)")
		fi
	done
	echo
}
ratio() { [ -z "$1" ] || [ -z "$2" ] || awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b }'; }
contains() {
	local x
	for x in "${names[@]}"; do [ "$x" = "$1" ] && return 0; done
	return 1
}

report() {
	local n
	echo
	echo "ferry benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "host: $(nproc) CPU, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	for n in "${names[@]}"; do
		local shown=${BIN[$n]}
		[ "$n" = ferry ] && shown=$FERRY
		echo "$n: $shown ($("${BIN[$n]}" --version 2>/dev/null | head -n1))"
	done
	[ -n "$crun_note" ] && echo "note: $crun_note"
	echo "iterations: $N measured per runtime (after $WARMUP warm-up), interleaved"
	echo
	printf '%-34s' "measurement"
	for n in "${names[@]}"; do printf ' %10s' "$n"; done
	contains crun && printf ' %10s' "ferry/crun"
	contains runc && printf ' %10s' "ferry/runc"
	echo
	worse=()
	local verb w
	for verb in run create start delete; do
		for w in median p90; do
			local vals=()
			for n in "${names[@]}"; do vals+=("$(ms "$(sample_stat "$n" "$verb" 2 "$w")")"); done
			local what=$verb
			[ "$verb" = run ] && what="run /bin/true"
			row "$what, ms ($w)" "${vals[@]}"
		done
	done
	local vals=()
	for n in "${names[@]}"; do vals+=("$(ms "$(sample_stat "$n" run 5 median)")"); done
	row "CPU user+sys run, ms (median)" "${vals[@]}"
	for verb in run create start delete; do
		vals=()
		for n in "${names[@]}"; do vals+=("$(sample_stat "$n" "$verb" 3 median)"); done
		row "peak RSS $verb, KiB (median)" "${vals[@]}"
	done
	vals=()
	for n in "${names[@]}"; do vals+=("$(sample_stat "$n" initrss 3 median)"); done
	row "init RSS while created, KiB" "${vals[@]}"
	vals=()
	for n in "${names[@]}"; do vals+=("$(hook_threads "$n" runtime)"); done
	row "threads, runtime in createRuntime" "${vals[@]}"
	vals=()
	for n in "${names[@]}"; do vals+=("$(hook_threads "$n" init)"); done
	row "threads, init in createRuntime" "${vals[@]}"
	vals=()
	for n in "${names[@]}"; do vals+=("$(strace_threads "$n")"); done
	row "threads started by run (strace)" "${vals[@]}"
	local -A sz=()
	for n in "${names[@]}"; do sz[$n]=$(sizes "$n"); done
	local col label
	for col in 1 2 3 4; do
		case $col in
		1) label="binary file as built, KiB *" ;;
		2) label="binary stripped, KiB" ;;
		3) label="stripped + shared libs, KiB" ;;
		4) label="shared libs (ldd), count *" ;;
		esac
		vals=()
		for n in "${names[@]}"; do vals+=("$(echo "${sz[$n]}" | cut -d' ' -f"$col")"); done
		row "$label" "${vals[@]}"
	done
	echo "* for information, not part of the target (ferry's build keeps -g debug info)"
	echo
	echo "processes seen by the createRuntime hook:"
	for n in "${names[@]}"; do
		echo "  $n: runtime '$(hook_comm "$n" runtime)', init '$(hook_comm "$n" init)'"
	done
	if contains crun; then
		if [ ${#worse[@]} -eq 0 ]; then
			echo "ferry is at or below crun on every row."
		else
			echo "rows where ferry is above crun:"
			printf '  %s\n' "${worse[@]}"
		fi
	fi
}

main() {
	find_runtimes
	build_helper
	make_bundles
	if contains crun && ! setup_crun; then
		drop_runtime crun
	fi
	local i n total=$((WARMUP + N))
	note "measuring ${names[*]}: $N iterations after $WARMUP warm-up"
	for ((i = 1; i <= total; i++)); do
		for n in "${names[@]}"; do
			if [ "$i" -le "$WARMUP" ]; then iteration "$n" "$i" warm-; else iteration "$n" "$i" ""; fi
		done
		[ $((i % 10)) -ne 0 ] || note "$i/$total"
	done
	for n in "${names[@]}"; do measure_threads "$n"; done
	report
	# Checkpoint/restore has its own script (hack/bench-cr.sh), run last.
	if [ "${BENCH_CR:-1}" != 0 ]; then
		FERRY=$FERRY "$repo/hack/bench-cr.sh" || note "hack/bench-cr.sh failed"
	fi
}

main
