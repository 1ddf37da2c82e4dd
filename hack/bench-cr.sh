#!/usr/bin/env bash
# Checkpoint/restore benchmarks: run by hack/bench.sh at its end (`make
# bench`), or on their own. runtime/coordinator/PERFORMANCE.md explains the
# figures and the floors of this machine kind.
#
# 1. The coordinator driven directly (hack/bench/cr-bench.c, linked with
#    build/libferry.a, built here): dump and restore of an idle process, a
#    50-process tree, 256 MiB and 1 GiB of dirty private anonymous memory,
#    images on BENCH_CR_DIR (tmpfs). Each workload runs in a cgroup of its
#    own, which the dump freezes as it freezes a container's, and checks
#    after the restore that its state survived. Per workload: median and
#    best wall time of the dump, its CPU time (the coordinator's, all
#    threads), the frozen time, the memory phase and GB/s (bytes / dump
#    wall time), the same for the restore (CPU includes the restored task's
#    own), and the image size. Then copy:1024, the floor under the 1 GiB
#    dump on this machine in this run: 1 GiB of cr-bench's own memory
#    vmspliced and spliced into two page files on BENCH_CR_DIR by two
#    threads, with no checkpoint around it.
#    Then the memory workloads and the floor again, images on a tmpfs of
#    large folios: mounted here with huge=within_size under the temp dir
#    (unmounted on exit). A tmpfs mounted without huge= (/dev/shm) takes
#    a 4 KiB page per 4 KiB written, which caps a dump near 4 GB/s on this
#    machine kind; with huge=within_size a 1 MiB splice gets folios of up
#    to 1 MiB and the same copy runs at 9-13 GB/s.
# 2. `ferry checkpoint --leave-running` of an idle container (payload
#    sleep): the container's frozen time (freezing + frozen, from
#    stats-dump.json) and the command's wall time; then one
#    checkpoint + `ferry restore` of it.
# 3. criu on the same workloads when a `criu` binary on PATH passes
#    `criu check`, with ferry/criu ratios; otherwise says so (Debian's
#    criu 3.17 fails its vDSO check on this kernel).
# 4. A line per target of the checkpoint/restore benchmark (dump >= 4
#    GB/s, 1 GiB restore <= 0.3 s, tree dump <= 50 ms and restore <= 100
#    ms, idle container frozen <= 10 ms): this run's median, met or not,
#    for memory on both kinds of tmpfs.
#
# Usage: hack/bench-cr.sh            (as root; `make` first)
# Environment:
#   BENCH_CR_REPS       rounds per workload (default 5; 1 GiB: at most 5)
#   BENCH_CR_DIR        where images go (default /dev/shm)
#   BENCH_CR_WORKLOADS  default "idle tree:50 mem:256 mem:1024 copy:1024"
#   BENCH_CR_FOLIOS     0 skips the pass on a large-folio tmpfs
#   BENCH_CR_CONTAINER  0 skips part 2
#   FERRY               ferry binary (default build/ferry)
#
# Everything it creates (processes, the container, images, the temp dir) is
# removed on exit, also on failure or ^C.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
FERRY=${FERRY:-$repo/build/ferry}
REPS=${BENCH_CR_REPS:-5}
DIR=${BENCH_CR_DIR:-/dev/shm}
WORKLOADS=${BENCH_CR_WORKLOADS:-idle tree:50 mem:256 mem:1024 copy:1024}

die() {
	echo "bench-cr: $*" >&2
	exit 1
}
note() { echo "bench-cr: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "must run as root (ptrace, clone3 set_tid, containers)"
[ -f "$repo/build/libferry.a" ] || die "no build/libferry.a (run make)"
command -v cc >/dev/null || die "no C compiler (hack/deps.sh)"
case "$REPS" in '' | *[!0-9]*) die "BENCH_CR_REPS must be a number" ;; esac
if [ "$REPS" -lt 1 ] || [ "$REPS" -gt 64 ]; then die "BENCH_CR_REPS must be 1-64"; fi
[ -d "$DIR" ] || die "$DIR: no such directory"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-cr.XXXXXX")
ctr=ferry-bench-cr-$$
standalone_pids=()

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM HUP
	local p
	for p in "${standalone_pids[@]}"; do kill -9 -- "-$p" 2>/dev/null; done
	if [ -d "$tmp/root" ]; then
		"$FERRY" --root "$tmp/root" delete --force "$ctr" >/dev/null 2>&1
	fi
	rm -rf "$DIR/$ctr".* 2>/dev/null
	if [ -d "$tmp/folios" ]; then umount "$tmp/folios" 2>/dev/null; fi
	if grep -q " ${tmp}[/ ]" /proc/self/mountinfo; then
		note "mounts left under $tmp; leaving it in place"
	else
		rm -rf "$tmp"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

build() {
	# shellcheck disable=SC2046 # pkg-config's words are separate flags
	cc -O2 -g -std=gnu11 -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE \
		-I"$repo" -I"$repo/runtime" -o "$tmp/cr-bench" "$repo/hack/bench/cr-bench.c" \
		"$repo/build/libferry.a" $(pkg-config --libs yajl libseccomp libcap) ||
		die "cannot build hack/bench/cr-bench.c"
}

header() {
	echo
	echo "ferry checkpoint/restore benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "host: $(nproc) CPU, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "images: $DIR ($(findmnt -no FSTYPE,OPTIONS -T "$DIR" 2>/dev/null | head -n1))"
	echo "transparent hugepages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo '?')"
}

# Part 1. The 1 GiB workload gets at most 5 rounds (each writes 1 GiB): on
# this VM, free page reporting makes some rounds slow (PERFORMANCE.md), and
# the median of 3 was too often one of those.
# coordinator [DIR [WORKLOAD...]]: images in DIR (default $DIR).
coordinator() {
	local dir=${1:-$DIR}
	shift || true
	local w first=1 list=${*:-$WORKLOADS}
	echo
	echo "coordinator, driven directly (median of $REPS rounds, 1 GiB: of $((REPS < 5 ? REPS : 5)))"
	for w in $list; do
		local r=$REPS
		case $w in mem:1024 | copy:1024) [ "$r" -gt 5 ] && r=5 ;; esac
		if [ $first -eq 1 ]; then
			"$tmp/cr-bench" -r "$r" -d "$dir" "$w" || return 1
			first=0
		else
			"$tmp/cr-bench" -r "$r" -d "$dir" "$w" | tail -n +2 || return 1
		fi
	done
}

# Part 1, memory again: images on a tmpfs of large folios.
folios() {
	[ "${BENCH_CR_FOLIOS:-1}" != 0 ] || return 0
	local w list=()
	for w in $WORKLOADS; do
		case $w in mem:* | copy:*) list+=("$w") ;; esac
	done
	[ ${#list[@]} -gt 0 ] || return 0
	mkdir "$tmp/folios"
	if ! mount -t tmpfs -o size=3g,huge=within_size ferry-bench "$tmp/folios" 2>"$tmp/out"; then
		echo
		echo "large-folio tmpfs: cannot mount one ($(head -n1 "$tmp/out")); no figures"
		return 0
	fi
	echo
	echo "images: $tmp/folios ($(findmnt -no FSTYPE,OPTIONS "$tmp/folios"))"
	coordinator "$tmp/folios" "${list[@]}" | tee "$tmp/folios.txt" || return 1
	umount "$tmp/folios"
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms() { awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'; }
now_us() { echo $(($(date +%s%N) / 1000)); }

# Part 2: an idle container.
container() {
	[ "${BENCH_CR_CONTAINER:-1}" != 0 ] || return 0
	[ -x "$FERRY" ] || {
		note "$FERRY: no ferry binary; no container figures"
		return 0
	}
	command -v jq >/dev/null || {
		note "jq is not installed; no container figures"
		return 0
	}
	FERRY="$FERRY" "$repo/hack/mkbundle.sh" "$tmp/bundle" >/dev/null ||
		die "hack/mkbundle.sh failed"
	local f=("$FERRY" --root "$tmp/root")
	"${f[@]}" run --detach --bundle "$tmp/bundle" "$ctr" </dev/null >"$tmp/out" 2>&1 || {
		note "cannot run a container; no container figures:"
		sed 's/^/bench-cr:   /' "$tmp/out" >&2
		return 0
	}
	local i t0 frozen=() wall=()
	for ((i = 0; i < REPS; i++)); do
		t0=$(now_us)
		"${f[@]}" checkpoint --leave-running --image-path "$DIR/$ctr.$i" "$ctr" \
			>"$tmp/out" 2>&1 || {
			echo "bench-cr: FAILED: ${f[*]} checkpoint --leave-running --image-path $DIR/$ctr.$i $ctr" >&2
			sed 's/^/bench-cr:   /' "$tmp/out" >&2
			return 1
		}
		wall+=($(($(now_us) - t0)))
		frozen+=("$(jq '.freezing_time + .frozen_time' "$DIR/$ctr.$i/stats-dump.json")")
		rm -rf "${DIR:?}/$ctr.$i"
	done
	echo
	echo "idle container (payload sleep), ferry checkpoint --leave-running, median of $REPS:"
	ms "$(printf '%s\n' "${frozen[@]}" | median)" >"$tmp/frozen.txt"
	echo "  frozen (freezing + frozen) $(cat "$tmp/frozen.txt") ms," \
		"best $(ms "$(printf '%s\n' "${frozen[@]}" | sort -n | head -n1)") ms;" \
		"command wall time $(ms "$(printf '%s\n' "${wall[@]}" | median)") ms"
	t0=$(now_us)
	"${f[@]}" checkpoint --image-path "$DIR/$ctr.img" "$ctr" >"$tmp/out" 2>&1 || {
		echo "  checkpoint + restore: checkpoint failed: $(head -n1 "$tmp/out")"
		return 0
	}
	local dumped=$(($(now_us) - t0))
	t0=$(now_us)
	if "${f[@]}" restore --detach --bundle "$tmp/bundle" --image-path "$DIR/$ctr.img" "$ctr" \
		</dev/null >"$tmp/out" 2>&1; then
		echo "  checkpoint $(ms "$dumped") ms, restore --detach $(ms $(($(now_us) - t0))) ms" \
			"(command wall times, one round)"
	else
		echo "  checkpoint $(ms "$dumped") ms; restore failed: $(head -n1 "$tmp/out")"
	fi
	"${f[@]}" delete --force "$ctr" >/dev/null 2>&1 || true
	rm -rf "${DIR:?}/$ctr.img"
}

# Column $3 of workload $2's line in the table saved in file $1.
col() { [ -f "$1" ] && awk -v w="$2" -v c="$3" '$1 == w { print $c; exit }' "$1"; }

# target NAME OP LIMIT UNIT VALUE [VALUE_ON_LARGE_FOLIOS]: one line, each
# value said to meet the target or not; nothing when there is no value.
target() {
	local name=$1 op=$2 limit=$3 unit=$4 v=$5 vf=${6:-}
	[ -n "$v" ] || return 0
	verdict() { awk -v v="$1" -v l="$limit" -v op="$op" \
		'BEGIN { ok = op == ">=" ? v >= l : v <= l; print ok ? "met" : "NOT met" }'; }
	local line="  $name: $v $unit"
	[ -z "$vf" ] || line+=" on $DIR"
	line+=" ($(verdict "$v"))"
	[ -z "$vf" ] || line+=", $vf $unit on the large-folio tmpfs ($(verdict "$vf"))"
	echo "$line"
}

# Each target of the checkpoint/restore benchmark against this run's medians.
targets() {
	local plain=$tmp/coordinator.txt big=$tmp/folios.txt
	echo
	echo "against the targets (this run's medians):"
	target "dump of 1 GiB >= 4 GB/s" ">=" 4 GB/s "$(col "$plain" mem:1024 8)" "$(col "$big" mem:1024 8)"
	target "restore of 1 GiB <= 300 ms" "<=" 300 ms "$(col "$plain" mem:1024 9)" \
		"$(col "$big" mem:1024 9)"
	target "50-process tree dump <= 50 ms" "<=" 50 ms "$(col "$plain" tree:50 2)"
	target "50-process tree restore <= 100 ms" "<=" 100 ms "$(col "$plain" tree:50 9)"
	target "idle container frozen <= 10 ms" "<=" 10 ms "$(cat "$tmp/frozen.txt" 2>/dev/null)"
}

# Part 3: criu, when it works here.
criu_usable() {
	command -v criu >/dev/null || {
		echo "criu: not installed; ferry's absolute figures only"
		return 1
	}
	if ! criu check >"$tmp/criu-check" 2>&1; then
		echo "criu: $(command -v criu) fails \`criu check\` here" \
			"($(grep -m1 -i error "$tmp/criu-check" || head -n1 "$tmp/criu-check"));" \
			"ferry's absolute figures only"
		return 1
	fi
}

# One criu round of workload W: "dump_us restore_us", or nothing on failure.
criu_round() {
	local w=$1 pid img=$DIR/$ctr.criu t0 d r
	pid=$("$tmp/cr-bench" --standalone "$w") || return 1
	standalone_pids+=("$pid")
	rm -rf "$img" && mkdir -p "$img"
	t0=$(now_us)
	criu dump -t "$pid" -D "$img" --shell-job >"$tmp/criu-out" 2>&1 || return 1
	d=$(($(now_us) - t0))
	t0=$(now_us)
	criu restore -D "$img" --shell-job -d >"$tmp/criu-out" 2>&1 || return 1
	r=$(($(now_us) - t0))
	kill -9 -- "-$pid" 2>/dev/null || true
	rm -rf "$img"
	echo "$d $r"
}

criu_compare() {
	echo
	criu_usable || return 0
	echo "criu $(criu --version | head -n1), same workloads (criu dump / restore -d, wall)," \
		"ferry/criu from part 1's medians:"
	local w i out d r
	for w in $WORKLOADS; do
		local ds=() rs=()
		for ((i = 0; i < (REPS < 3 ? REPS : 3); i++)); do
			out=$(criu_round "$w") || {
				echo "  $w: criu failed: $(tail -n1 "$tmp/criu-out")"
				continue 2
			}
			ds+=("${out% *}")
			rs+=("${out#* }")
		done
		d=$(printf '%s\n' "${ds[@]}" | median)
		r=$(printf '%s\n' "${rs[@]}" | median)
		awk -v w="$w" -v d="$d" -v r="$r" -v fd="${FERRY_DUMP[$w]:-0}" -v fr="${FERRY_RESTORE[$w]:-0}" \
			'BEGIN { printf "  %-10s criu dump %8.1f ms  restore %8.1f ms   ferry/criu dump %.2f  restore %.2f\n",
			         w, d / 1000, r / 1000, fd * 1000 / d, fr * 1000 / r }'
	done
}

main() {
	build
	header
	coordinator | tee "$tmp/coordinator.txt"
	declare -gA FERRY_DUMP=() FERRY_RESTORE=()
	local w d r
	# shellcheck disable=SC2034 # read by criu_compare
	# columns: workload, dump ms, best, cpu, frozen, best, mem, GB/s, restore ms, ...
	while read -r w d _ _ _ _ _ _ r _; do
		case " $WORKLOADS " in *" $w "*) ;; *) continue ;; esac
		FERRY_DUMP[$w]=$d
		FERRY_RESTORE[$w]=$r
	done <"$tmp/coordinator.txt"
	folios
	container
	criu_compare
	targets
}

main
