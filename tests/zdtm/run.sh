#!/usr/bin/env bash
# zdtm harness: run each test program as a container's process and put it
# through checkpoint/restore, then let it check its own state (lib.h has the
# protocol). Prints pure TAP on stdout; progress and debris go to stderr.
#
# Usage: tests/zdtm/run.sh [--cycles N] [--variants "cr leave-running pre-dump"]
#                          [--images-tmpfs OPTIONS] [--keep] [NAME...]
# Validating the programs themselves, without checkpoint: tests/zdtm/standalone.sh
# (on the host, each must PASS, and FAIL when disturbed) and `run.sh --variants plain`.
#   NAME        tests/zdtm/NAME.c (default: every test)
#   --cycles N  checkpoint/restore cycles per test (default $ZDTM_CYCLES or 2;
#               a test's cycles= key wins)
#   --variants  which runs to do for each test:
#                 cr             run; N x (checkpoint, restore); signal; result
#                 leave-running  run; checkpoint --leave-running; the original
#                                keeps running and must PASS
#                 pre-dump       run; two checkpoint --pre-dump, each against
#                                the one before; checkpoint --parent-path the
#                                second (pages in it are not written again);
#                                restore; signal; result
#                 dedup          as pre-dump, the second pre-dump and the
#                                checkpoint with --auto-dedup: the restore
#                                reads parents with their unneeded pages
#                                punched out
#                 plain          run; signal; result: no checkpoint at all, to
#                                validate the programs inside a container
#               (default $ZDTM_VARIANTS or "cr leave-running pre-dump")
#   --images-tmpfs OPTIONS
#               each test's directory (bundle, images) on a tmpfs mounted
#               with these options for the run, e.g. huge=within_size for
#               page files of 2 MiB folios; the test skips when the kernel
#               refuses the mount
#   --keep      keep the work directory (bundles, images, outputs)
# Environment: FERRY (default build/ferry), ZDTM_TIMEOUT (seconds per wait and
# per ferry command, default 30), ZDTM_MB (overrides bigmem's size).
#
# Each test's source carries its options in `// zdtm:` lines of KEY=VALUE
# words (lists are comma-separated):
#   args=A,B       more arguments after /zdtm/NAME
#   env=K=V,...    added to process.env
#   user=UID:GID   process.user (the test runs as non-root)
#   caps=CAP_X,... added to the capability sets (and to the inheritable and
#                  ambient sets when user= is not root)
#   nnp=false      process.noNewPrivileges = false
#   flags=--a,--b  extra flags for both checkpoint and restore
#                  (--tcp-established, --ext-unix-sk, --file-locks, --shell-job)
#   cycles=N       checkpoint/restore cycles for this test
#   dedup=N        the dedup variant must free at least N pages of the
#                  parents (stats parent_pages_freed of both dumps)
#   shares=N       the first checkpoint must find at least N pages the tree's
#                  processes share copy-on-write (stats pages_deduplicated):
#                  written once, not once per process
#   chroot=DIR     the test chroots into /tmp/DIR: its files are in /tmp/DIR/tmp
#   outside=KIND   a unix socket peer outside the container (--ext-unix-sk):
#                  `payload unix-listen KIND` on the host, bound to DIR/peer
#                  in a directory the container bind-mounts at the same
#                  path DIR (as a host's /dev/log is); the test gets DIR/peer
#                  in $ZDTM_OUTSIDE and reads what it received in DIR/peer.log
#
# Every variant skips, saying so, while `ferry checkpoint --help` fails
# (except plain, which needs no checkpoint).
set -uo pipefail

src=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$src/../.." && pwd)
FERRY=${FERRY:-$repo/build/ferry}
FERRY=$(readlink -f "$FERRY" 2>/dev/null || echo "$FERRY")
export FERRY
PAYLOAD=${FERRY_PAYLOAD:-$repo/build/tests/payload}
out=${ZDTM_BUILD:-$repo/build/zdtm}
timeout_s=${ZDTM_TIMEOUT:-30}
cycles=${ZDTM_CYCLES:-2}
variants=${ZDTM_VARIANTS:-cr leave-running pre-dump}
keep=0
images_tmpfs=

while [ $# -gt 0 ]; do
	case $1 in
	--cycles) cycles=$2 && shift 2 ;;
	--variants) variants=$2 && shift 2 ;;
	--images-tmpfs) images_tmpfs=$2 && shift 2 ;;
	--keep) keep=1 && shift ;;
	-h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//' && exit 0 ;;
	--*) echo "run.sh: unknown option $1" >&2 && exit 2 ;;
	*) break ;;
	esac
done

if [ $# -eq 0 ]; then
	mapfile -t all < <("$src/build.sh" --list)
	set -- "${all[@]}"
fi

# ---------------------------------------------------------------------------
# set-up and clean-up

work=$(mktemp -d /tmp/zdtm-run.XXXXXX)
chmod 0755 "$work"
root=$work/root
mkdir "$root"
tag=$(basename "$work")
tests_dir=$work # each test's directory goes in here
images_skip=
if [ -n "$images_tmpfs" ]; then
	tests_dir=$work/tmpfs
	mkdir "$tests_dir"
	if ! mount -t tmpfs -o "$images_tmpfs" zdtm-images "$tests_dir" 2>"$work/mount.err"; then
		images_skip="cannot mount a tmpfs with $images_tmpfs here: $(head -n1 "$work/mount.err")"
	fi
fi
ids=()

# Processes whose environment carries our tag: every container process has it.
tagged_pids() {
	grep -lszx "ZDTM_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
}

cleanup() {
	local id i pids m
	cd /
	for id in "${ids[@]}"; do
		timeout 10 "$FERRY" --root "$root" delete --force "$id" >/dev/null 2>&1
	done
	for i in $(seq 50); do
		pids=$(tagged_pids)
		[ -z "$pids" ] && break
		kill -9 $pids 2>/dev/null
		sleep 0.05
	done
	[ -z "$(tagged_pids)" ] || echo "zdtm: processes left behind: $(tagged_pids)" >&2
	for id in "${ids[@]}"; do
		find /sys/fs/cgroup -depth -mindepth 1 -type d -name "*$id*" -exec rmdir {} + 2>/dev/null
	done
	while IFS= read -r m; do
		umount -l "$m" 2>/dev/null
	done < <(awk -v d="$work" 'index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	if [ $keep -eq 1 ]; then
		echo "zdtm: kept $work" >&2
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------
# helpers

# hdr NAME KEY: the value of KEY in the test's `// zdtm:` lines.
hdr() {
	sed -n 's|^// zdtm: ||p' "$src/$1.c" | tr ' ' '\n' | sed -n "s|^$2=||p" | head -1
}

# json_list A,B,C: ["A","B","C"] (empty input: []).
json_list() {
	jq -cn --arg s "$1" '$s | if . == "" then [] else split(",") end'
}

# The failure report of the current test, shown under its "not ok" line.
report=
note() {
	report+="$*"$'\n'
}

# fcmd LOG ARGS...: run `ferry --root R ARGS` with a timeout; its output goes
# to LOG; on failure the command, status and output go into the report.
fcmd() {
	local log=$1 rc
	shift
	timeout -k 5 "$timeout_s" "$FERRY" --root "$root" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	if [ $rc -ne 0 ]; then
		note "\$ ferry $* (status=$rc)"
		note "$(cat "$log")"
		[ $rc -ne 124 ] || note "(status 124: hit the ${timeout_s}s timeout)"
	fi
	return $rc
}

container_status() {
	timeout 10 "$FERRY" --root "$root" state "$1" 2>/dev/null | jq -r .status 2>/dev/null
}

# restored LOG IMG PREFIX: restore run_test's container ($id, with its
# $flags) from IMG and check it runs; PREFIX starts the note if not.
restored() {
	fcmd "$1" restore --detach --image-path "$2" $flags "$id" || return 1
	if [ "$(container_status "$id")" != running ]; then
		note "$3the container is '$(container_status "$id")' after restore, not running"
		show_result "$result" "$t"
		return 1
	fi
}

# wait_for FILE: until it exists; fails on timeout or once the test wrote a
# result (it gave up early) while we were waiting for something else.
wait_for() {
	local file=$1 result=$2 i
	for ((i = 0; i < timeout_s * 20; i++)); do
		[ -e "$file" ] && return 0
		[ -s "$result" ] && return 1
		sleep 0.05
	done
	return 1
}

# Build the bundle of test $1 in $2 from the header's options.
make_bundle() {
	local name=$1 b=$2 args env user caps nnp jq_prog
	FERRY=$FERRY "$repo/hack/mkbundle.sh" "$b" >"$b.log" 2>&1 || {
		note "mkbundle failed:"
		note "$(cat "$b.log")"
		return 1
	}
	mkdir -p "$b/rootfs/zdtm"
	cp "$out/$name" "$b/rootfs/zdtm/$name"
	args=$(json_list "$(hdr "$name" args)")
	env=$(json_list "$(hdr "$name" env)")
	if [ -n "${ZDTM_MB:-}" ] && [ "$name" = bigmem ]; then
		env=$(jq -c --arg v "ZDTM_MB=$ZDTM_MB" 'map(select(startswith("ZDTM_MB=") | not)) + [$v]' <<<"$env")
	fi
	caps=$(json_list "$(hdr "$name" caps)")
	user=$(hdr "$name" user)
	nnp=$(hdr "$name" nnp)
	jq_prog='.root.readonly = false | .process.terminal = false
		| .process.args = ["/zdtm/" + $name] + $args
		| .process.env += ["ZDTM_TAG=" + $tag] + $env
		| .process.capabilities |= with_entries(.value = (.value + $caps | unique))'
	if [ -n "$user" ]; then
		jq_prog+=' | .process.user = { uid: ($user | split(":")[0] | tonumber),
					       gid: ($user | split(":")[1] // "0" | tonumber) }
			| .process.capabilities.inheritable = $caps
			| .process.capabilities.ambient = $caps'
	fi
	[ "$nnp" != false ] || jq_prog+=' | .process.noNewPrivileges = false'
	jq --arg name "$name" --arg tag "$tag" --arg user "$user" --argjson args "$args" \
		--argjson env "$env" --argjson caps "$caps" "$jq_prog" "$b/config.json" >"$b/config.new" &&
		mv "$b/config.new" "$b/config.json" || {
		note "editing $b/config.json failed"
		return 1
	}
}

# start_outside KIND T B: the outside= peer of the test in work dir T, added
# to bundle B's config. The peer carries our tag, so cleanup kills it too.
outside_pid=
start_outside() {
	local kind=$1 dir=$2/outside b=$3 i
	mkdir -p "$dir" && chmod 0755 "$dir"
	ZDTM_TAG=$tag "$PAYLOAD" unix-listen "$kind" "$dir/peer" >"$dir/peer.log" 2>&1 </dev/null &
	outside_pid=$!
	for ((i = 0; i < timeout_s * 20; i++)); do
		grep -qsx listening "$dir/peer.log" && break
		sleep 0.05
	done
	grep -qsx listening "$dir/peer.log" || {
		note "the peer outside (payload unix-listen $kind $dir/peer) did not start:"
		note "$(cat "$dir/peer.log")"
		return 1
	}
	jq --arg d "$dir" '.mounts += [{destination: $d, type: "bind", source: $d, options: ["rbind"]}]
		| .process.env += ["ZDTM_OUTSIDE=" + $d + "/peer"]' "$b/config.json" >"$b/config.new" &&
		mv "$b/config.new" "$b/config.json" || {
		note "adding the peer outside to $b/config.json failed"
		return 1
	}
}

stop_outside() {
	[ -n "$outside_pid" ] || return 0
	kill -9 "$outside_pid" 2>/dev/null
	wait "$outside_pid" 2>/dev/null
	outside_pid=
}

# ---------------------------------------------------------------------------
# one test, one variant: returns 0 (pass), 1 (fail) or 2 (skip, reason in
# $skip_reason); the failure report is in $report.

run_test() {
	local name=$1 variant=$2 t=$tests_dir/$1-$2 id b files result n flags i
	report='' skip_reason=''
	id="zdtm-$name-$variant-$$"
	b=$t/bundle
	mkdir -p "$t"
	make_bundle "$name" "$b" || return 1
	local outside
	outside=$(hdr "$name" outside)
	if [ -n "$outside" ]; then
		start_outside "$outside" "$t" "$b" || return 1
	fi
	local chroot
	chroot=$(hdr "$name" chroot)
	files=$b/rootfs/tmp${chroot:+/$chroot/tmp}
	result=$files/zdtm-result
	flags=$(hdr "$name" flags | tr ',' ' ')
	n=$(hdr "$name" cycles)
	n=${n:-$cycles}
	local shares
	shares=$(hdr "$name" shares)

	ids+=("$id")
	cd "$b" || return 1
	# The container's stdio: these files, which the detached container keeps.
	timeout -k 5 "$timeout_s" "$FERRY" --root "$root" run -d "$id" </dev/null >"$t/run.out" 2>&1 || {
		note "\$ ferry run -d $id (status=$?)"
		note "$(cat "$t/run.out")"
		return 1
	}
	if ! wait_for "$files/zdtm-ready" "$result"; then
		note "the test never said ready within ${timeout_s}s"
		show_result "$result" "$t"
		return 1
	fi

	case $variant in
	cr)
		for ((i = 1; i <= n; i++)); do
			fcmd "$t/dump-$i.out" checkpoint --image-path "$t/img-$i" $flags "$id" || return 1
			# (a restored tree has its own copy of every page: cycle 1 only)
			if [ "$i" = 1 ] && [ -n "$shares" ] &&
				[ "$(jq .pages_deduplicated "$t/img-$i/stats-dump.json")" -lt "$shares" ]; then
				note "fewer than $shares pages found shared: $(cat "$t/img-$i/stats-dump.json")"
				return 1
			fi
			if [ "$(container_status "$id")" = running ]; then
				note "cycle $i: the container is still running after checkpoint"
				return 1
			fi
			restored "$t/restore-$i.out" "$t/img-$i" "cycle $i: " || return 1
		done
		;;
	pre-dump)
		fcmd "$t/pre-1.out" checkpoint --pre-dump --image-path "$t/pre-1" $flags "$id" || return 1
		fcmd "$t/pre-2.out" checkpoint --pre-dump --image-path "$t/pre-2" --parent-path ../pre-1 \
			$flags "$id" || return 1
		if [ "$(container_status "$id")" != running ]; then
			note "the container is '$(container_status "$id")' after two pre-dumps"
			return 1
		fi
		fcmd "$t/dump.out" checkpoint --image-path "$t/img" --parent-path ../pre-2 $flags "$id" ||
			return 1
		# Every tree has unchanged private memory: some must be in the parent.
		if [ "$(jq .pages_in_parent "$t/img/stats-dump.json")" = 0 ]; then
			note "the dump wrote every page again: $(cat "$t/img/stats-dump.json")"
			return 1
		fi
		restored "$t/restore.out" "$t/img" "" || return 1
		;;
	dedup)
		fcmd "$t/pre-1.out" checkpoint --pre-dump --image-path "$t/pre-1" $flags "$id" || return 1
		fcmd "$t/pre-2.out" checkpoint --pre-dump --auto-dedup --image-path "$t/pre-2" \
			--parent-path ../pre-1 $flags "$id" || return 1
		fcmd "$t/dump.out" checkpoint --auto-dedup --image-path "$t/img" --parent-path ../pre-2 \
			$flags "$id" || return 1
		# a failed deduplication is only a warning: it must not happen here
		if grep -h 'auto-dedup' "$t/pre-2.out" "$t/dump.out" >"$t/dedup.out"; then
			note "$(cat "$t/dedup.out")"
			return 1
		fi
		local freed dedup
		freed=$(($(jq .parent_pages_freed "$t/pre-2/stats-dump.json") +
			$(jq .parent_pages_freed "$t/img/stats-dump.json")))
		dedup=$(hdr "$name" dedup)
		if [ -n "$dedup" ] && [ "$freed" -lt "$dedup" ]; then
			note "--auto-dedup freed $freed pages of the parents, fewer than $dedup"
			return 1
		fi
		restored "$t/restore.out" "$t/img" "" || return 1
		;;
	leave-running)
		fcmd "$t/dump.out" checkpoint --leave-running --image-path "$t/img" $flags "$id" || return 1
		if [ "$(container_status "$id")" != running ]; then
			note "the container is '$(container_status "$id")' after checkpoint --leave-running"
			show_result "$result" "$t"
			return 1
		fi
		;;
	esac

	fcmd "$t/kill.out" kill "$id" USR2 || { show_result "$result" "$t"; return 1; }
	if ! wait_for "$result" /dev/null; then
		note "no result within ${timeout_s}s after SIGUSR2"
		show_result "$result" "$t"
		return 1
	fi
	local verdict
	verdict=$(head -1 "$result")
	case $verdict in
	PASS) return 0 ;;
	SKIP*) skip_reason=${verdict#SKIP: } && return 2 ;;
	esac
	show_result "$result" "$t"
	return 1
}

# Put the test's result and the container's output into the report.
show_result() {
	local result=$1 t=$2 f
	if [ -s "$result" ]; then
		note "result: $(cat "$result")"
	else
		note "no result file ($result)"
	fi
	for f in "$t"/run.out "$t"/restore*.out; do
		[ -s "$f" ] || continue
		note "container output ($(basename "$f")):"
		note "$(tail -20 "$f")"
	done
}

# The reason a test is listed in not-yet for this variant, if it is.
not_yet() {
	local name=$1 v=$2 line
	[ "${ZDTM_ALL:-0}" = 1 ] && return 1
	[ "$v" = plain ] && return 1
	line=$(grep -E "^$name(/$v)?: " "$src/not-yet" | head -n 1) || return 1
	echo "${line#*: }"
}

# ---------------------------------------------------------------------------
# main

have_checkpoint=1
ckpt_err=$("$FERRY" checkpoint --help 2>&1 >/dev/null) || have_checkpoint=0

names=()
for name in "$@"; do
	if [ ! -e "$src/$name.c" ]; then
		echo "Bail out! no test tests/zdtm/$name.c"
		exit 1
	fi
	names+=("$name")
done

# Build only when something will run: skipping must stay instant.
build_log=$work/build.log
built=1
if [ $have_checkpoint -eq 1 ] || [[ " $variants " == *" plain "* ]]; then
	"$src/build.sh" "${names[@]}" >"$build_log" 2>&1 || built=0
fi

total=0
for v in $variants; do
	total=$((total + ${#names[@]}))
done
echo "1..$total"

num=0
failed=0
for name in "${names[@]}"; do
	for v in $variants; do
		num=$((num + 1))
		label="zdtm/$name"
		[ "$v" = cr ] || label+=" ($v)"
		[ -z "$images_tmpfs" ] || label+=" [tmpfs $images_tmpfs]"
		if [ -n "$images_skip" ]; then
			echo "ok $num - $label # SKIP $images_skip"
			continue
		fi
		if [ $have_checkpoint -eq 0 ] && [ "$v" != plain ]; then
			echo "ok $num - $label # SKIP ferry checkpoint is not implemented"
			continue
		fi
		if reason=$(not_yet "$name" "$v"); then
			echo "ok $num - $label # SKIP not supported yet: $reason"
			continue
		fi
		if [ $built -eq 0 ]; then
			echo "not ok $num - $label"
			sed 's/^/# /' "$build_log"
			failed=$((failed + 1))
			continue
		fi
		[ ! -t 2 ] || echo "zdtm: $label" >&2 # progress, only for a person watching
		run_test "$name" "$v"
		rc=$?
		cd "$work" || exit 1
		case $rc in
		0) echo "ok $num - $label" ;;
		2) echo "ok $num - $label # SKIP $skip_reason" ;;
		*)
			echo "not ok $num - $label"
			printf '%s' "$report" | sed 's/^/# /'
			failed=$((failed + 1))
			;;
		esac
		timeout 10 "$FERRY" --root "$root" delete --force "zdtm-$name-$v-$$" >/dev/null 2>&1
		stop_outside
	done
done
[ $have_checkpoint -eq 1 ] || echo "# ferry checkpoint --help failed: ${ckpt_err%%$'\n'*}"
[ $failed -eq 0 ]
