# Shared by every .bats file: `load helpers`.
#
# The suite is written against runc's documented behaviour, so it can be run
# against runc first and then against ferry:
#   bats tests/integration/                      # build/ferry
#   FERRY=$(command -v runc) bats tests/integration/
#
# Each test gets a private state root ($ROOT), a scratch directory ($TEST_DIR),
# a unique container id ($ID) and, through setup_bundle, its own bundle
# ($BUNDLE, also the working directory). teardown removes everything the test
# made, whether it passed or not.

REPO=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

# Absolute path of the runtime under test.
FERRY=${FERRY:-$REPO/build/ferry}
if [[ "$FERRY" != */* ]]; then
	FERRY=$(command -v "$FERRY" || echo "$FERRY")
fi
FERRY=$(readlink -f "$FERRY" 2>/dev/null || echo "$FERRY")
# runc's own name for itself in messages and paths is its basename.
RUNTIME=$(basename "$FERRY")
export FERRY

# The payload runs in containers and, for recvtty, on the host.
PAYLOAD=${FERRY_PAYLOAD:-$REPO/build/tests/payload}
export FERRY_PAYLOAD=$PAYLOAD
MKBUNDLE=$REPO/hack/mkbundle.sh

# Seconds any single runtime command may take before it counts as hung.
FERRY_TIMEOUT=${FERRY_TIMEOUT:-30}

# ---------------------------------------------------------------------------
# setup / teardown

setup_test() {
	[ -x "$FERRY" ] || skip "no runtime at $FERRY (run make, or set FERRY)"
	[ -x "$PAYLOAD" ] || skip "no payload at $PAYLOAD (run make)"
	TEST_DIR=$(mktemp -d /tmp/ferry-bats.XXXXXX)
	# Traversable by the ids a user namespace maps root to.
	chmod 0755 "$TEST_DIR"
	ROOT=$TEST_DIR/root
	mkdir "$ROOT"
	ID="ft-${BATS_TEST_NUMBER}-$$"
	# Every container process carries this in its environment, so teardown
	# can find leftovers even when the runtime under test is broken.
	TAG=$(basename "$TEST_DIR")
	FERRY_CALLS=0
	FERRY_OUT=
	BUNDLE=
	# Tests read nothing from the terminal bats was started on.
	exec </dev/null
}

setup() {
	setup_test
	setup_bundle
}

teardown() {
	teardown_test
}

teardown_test() {
	[ -n "${TEST_DIR:-}" ] && [ -d "$TEST_DIR" ] || return 0
	cd /
	kill_background
	# Killing first lets the runtime find its containers already stopped,
	# which makes delete --force quick.
	kill -9 $(tagged_pids) 2>/dev/null || true
	delete_all_containers
	kill_tagged_processes
	remove_test_cgroups
	delete_test_netns
	unmount_under "$TEST_DIR"
	rm -rf --one-file-system "$TEST_DIR"
}

# Force-delete every container the runtime still knows about in $ROOT.
delete_all_containers() {
	local ids id
	ids=$(timeout 10 "$FERRY" --root "$ROOT" list -q 2>/dev/null || true)
	# A container whose state the runtime cannot list still has a directory.
	ids+=" $(ls "$ROOT" 2>/dev/null || true)"
	for id in $(echo "$ids" | tr ' ' '\n' | sort -u); do
		timeout 10 "$FERRY" --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
	done
}

# SIGKILL every process whose environment has our tag, until none is left.
kill_tagged_processes() {
	local i pids
	for i in $(seq 50); do
		pids=$(tagged_pids)
		[ -z "$pids" ] && return 0
		kill -9 $pids 2>/dev/null || true
		sleep 0.05
	done
	echo "teardown: processes still alive: $pids" >&2
}

tagged_pids() {
	grep -lszx "FERRY_TEST_TAG=$TAG" /proc/[0-9]*/environ |
		sed -n 's|^/proc/\([0-9]*\)/environ$|\1|p'
}

# cgroups named after this test's ids (the runtime's default path ends with
# the id; tests that set cgroupsPath put $ID in it).
remove_test_cgroups() {
	local d i
	[ -d /sys/fs/cgroup ] || return 0
	for i in $(seq 20); do
		local left=0
		while IFS= read -r d; do
			rmdir "$d" 2>/dev/null || left=1
		done < <(find_test_cgroups -depth)
		[ $left -eq 0 ] && return 0
		sleep 0.05
	done
	echo "teardown: cgroups left behind:" >&2
	find_test_cgroups >&2
}

# Directories named $ID, $ID-x, x-$ID or x-$ID-y (not $ID0, another test's).
find_test_cgroups() {
	find /sys/fs/cgroup "$@" -mindepth 1 -type d \( -name "$ID" -o -name "$ID-*" \
		-o -name "*-$ID" -o -name "*-$ID-*" \) 2>/dev/null
}

# Unmount (lazily, deepest first) everything mounted at or below $1.
unmount_under() {
	local dir=$1 m
	while IFS= read -r m; do
		umount -l "$m" 2>/dev/null || true
	done < <(awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' \
		/proc/self/mountinfo | sort -r)
}

# ---------------------------------------------------------------------------
# running the runtime

# ferry ARGS...: run "$FERRY --root $ROOT ARGS" like bats' `run`: sets
# $status, $output and $lines and never fails by itself. The command, its
# status and its output go to stderr, which bats shows when the test fails.
#
# Output goes through a file, not a pipe, so a detached container that
# inherits the runtime's stdout cannot hold the test up; the file stays in
# $FERRY_OUT and keeps receiving that container's output.
ferry() {
	FERRY_CALLS=$((FERRY_CALLS + 1))
	FERRY_OUT=$TEST_DIR/ferry-out.$FERRY_CALLS
	timeout -k 5 "$FERRY_TIMEOUT" "$FERRY" --root "$ROOT" "$@" >"$FERRY_OUT" 2>&1 &&
		status=0 || status=$?
	output=$(cat "$FERRY_OUT")
	mapfile -t lines <<<"$output"
	[ -n "$output" ] || lines=()
	{
		echo "\$ $RUNTIME --root \$ROOT $* (status=$status)"
		[ -z "$output" ] || echo "$output"
	} >&2
	[ "$status" -ne 124 ] || echo "(status 124: hit the ${FERRY_TIMEOUT}s timeout?)" >&2
	return 0
}

# Run any command with the same reporting (for host-side commands).
run_cmd() {
	local out=$TEST_DIR/cmd-out
	"$@" >"$out" 2>&1 && status=0 || status=$?
	output=$(cat "$out")
	mapfile -t lines <<<"$output"
	[ -n "$output" ] || lines=()
	{
		echo "\$ $* (status=$status)"
		[ -z "$output" ] || echo "$output"
	} >&2
	return 0
}

# Assertions that say what they expected and what they got.
assert_success() {
	if [ "$status" -ne 0 ]; then
		echo "expected success, got status $status" >&2
		return 1
	fi
}

assert_failure() {
	if [ "$status" -eq 0 ]; then
		echo "expected failure, got status 0" >&2
		return 1
	fi
}

assert_status() {
	if [ "$status" -ne "$1" ]; then
		echo "expected status $1, got $status" >&2
		return 1
	fi
}

# assert_output_has REGEX: some line of $output matches (grep -E).
assert_output_has() {
	if ! grep -qE -- "$1" <<<"$output"; then
		echo "expected output matching /$1/" >&2
		return 1
	fi
}

assert_output_lacks() {
	if grep -qE -- "$1" <<<"$output"; then
		echo "expected no output matching /$1/" >&2
		return 1
	fi
}

# assert_eq GOT WANT [what]
assert_eq() {
	if [ "$1" != "$2" ]; then
		echo "${3:-value}: expected '$2', got '$1'" >&2
		return 1
	fi
}

# ---------------------------------------------------------------------------
# bundles and config.json

# Make $TEST_DIR/bundle (or $1) with hack/mkbundle.sh and cd into it.
setup_bundle() {
	BUNDLE=${1:-$TEST_DIR/bundle}
	FERRY="$FERRY" "$MKBUNDLE" "$BUNDLE" >&2 || {
		echo "setup_bundle: mkbundle failed" >&2
		return 1
	}
	update_config ".process.env += [\"FERRY_TEST_TAG=$TAG\"]"
	cd "$BUNDLE"
}

# update_config JQ-EXPR [BUNDLE]: edit config.json in place.
update_config() {
	local cfg=${2:-$BUNDLE}/config.json
	jq "$1" "$cfg" >"$cfg.new" || {
		echo "update_config: jq '$1' failed" >&2
		return 1
	}
	mv "$cfg.new" "$cfg"
}

# set_args ARG...: process.args = [ARG...] (any characters, newlines too).
set_args() {
	local jqargs=() i=0 a
	for a in "$@"; do
		jqargs+=(--arg "a$i" "$a")
		i=$((i + 1))
	done
	local json
	json=$(jq -n -c --argjson n $# "${jqargs[@]}" '[range($n) as $i | $ARGS.named["a\($i)"]]')
	update_config ".process.args = $json"
}

# payload_args VERB ARGS...: run /bin/payload VERB ARGS as the container process.
payload_args() {
	set_args /bin/payload "$@"
}

# cap_in_mask HEX BIT: capability number BIT is set in the hex mask.
cap_in_mask() {
	(((16#$1 >> $2) & 1))
}

# ---------------------------------------------------------------------------
# waiting

# eventually [SECONDS] 'SHELL CODE': evaluate the code (its $(...) afresh
# each time) every 50 ms until it succeeds; default 5 s.
eventually() {
	local secs=5 i
	if [ $# -gt 1 ]; then
		secs=$1
		shift
	fi
	for ((i = 0; i < secs * 20; i++)); do
		eval "$1" && return 0
		sleep 0.05
	done
	echo "eventually: '$1' still failing after ${secs}s" >&2
	return 1
}

# retry ATTEMPTS DELAY CMD...: run CMD until it succeeds. Its arguments are
# expanded once; use `eventually` for a condition that must be re-read.
retry() {
	local attempts=$1 delay=$2 i
	shift 2
	for ((i = 0; i < attempts; i++)); do
		"$@" && return 0
		sleep "$delay"
	done
	echo "retry: '$*' still failing after $attempts attempts" >&2
	return 1
}

container_status() {
	timeout 10 "$FERRY" --root "$ROOT" state "$1" 2>/dev/null | jq -r .status 2>/dev/null
}

# wait_for_state ID STATUS [SECONDS]
wait_for_state() {
	local id=$1 want=$2 secs=${3:-5} got i
	for ((i = 0; i < secs * 20; i++)); do
		got=$(container_status "$id")
		[ "$got" = "$want" ] && return 0
		sleep 0.05
	done
	echo "wait_for_state: $id is '$got', not '$want' after ${secs}s" >&2
	return 1
}

# wait_for_file_line FILE REGEX [SECONDS]: until a line of FILE matches.
wait_for_output() {
	local file=$1 re=$2 secs=${3:-5} i
	for ((i = 0; i < secs * 20; i++)); do
		grep -qE -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "wait_for_output: no /$re/ in $file after ${secs}s; it holds:" >&2
	cat "$file" >&2 2>/dev/null || true
	return 1
}

# pid_gone PID: the process has exited (a zombie waiting for whoever
# inherited it counts as gone).
pid_gone() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}

# The pid the runtime reports for a container.
container_pid() {
	timeout 10 "$FERRY" --root "$ROOT" state "$1" 2>/dev/null | jq -r .pid
}

# Create and start $1 (default $ID) in the background, running the bundle's
# process; fails the test unless it ends up running.
run_detached() {
	local id=${1:-$ID}
	ferry run -d "$id"
	assert_success
	CONTAINER_OUT=$FERRY_OUT
	wait_for_state "$id" running
}

# ---------------------------------------------------------------------------
# skipping honestly

is_runc() {
	[ "$RUNTIME" = runc ]
}

# skip_if_runc REASON: for behaviour only ferry has, or that runc cannot show
# on this machine. The reason is printed in the TAP output.
skip_if_runc() {
	if is_runc; then
		skip "runc: $1"
	fi
}

unified_mount() {
	if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
		echo /sys/fs/cgroup
	elif [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
		echo /sys/fs/cgroup/unified
	fi
}

cgroup_v1_controller() {
	[ "$(stat -f -c %T "/sys/fs/cgroup/$1" 2>/dev/null)" = cgroupfs ] ||
		awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup") print $(i + 3); break } }' \
			/proc/self/mountinfo | tr ',' '\n' | grep -qx "$1"
}

is_cgroup_v2() {
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]
}

# A controller usable for containers, in v1 or v2 (where the freezer is
# cgroup.freeze and device rules are BPF programs, not controllers).
have_controller() {
	if is_cgroup_v2; then
		case $1 in
		freezer) unified_has_freeze ;;
		devices) true ;;
		cpuacct) grep -qw cpu /sys/fs/cgroup/cgroup.controllers ;;
		*) grep -qw "$1" /sys/fs/cgroup/cgroup.controllers ;;
		esac
	else
		cgroup_v1_controller "$1"
	fi
}

# The directory where controller $1 (v1) or the container (v2) has cgroup $2.
cgroup_dir() {
	if is_cgroup_v2; then
		echo "/sys/fs/cgroup$2"
	else
		echo "/sys/fs/cgroup/$1$2"
	fi
}

# set_cgroups_path [ID]: give the container a known absolute cgroupsPath
# (named after the id, so teardown finds it) and set CGROUP_PATH to it.
set_cgroups_path() {
	CGROUP_PATH="/ferry-bats-${1:-$ID}"
	update_config ".linux.cgroupsPath = \"$CGROUP_PATH\""
}

# cgroup_file CONTROLLER FILE: that file of $CGROUP_PATH (v1: in the
# controller's hierarchy; v2: in the unified one).
cgroup_file() {
	echo "$(cgroup_dir "$1" "$CGROUP_PATH")/$2"
}

unified_has_freeze() {
	local u probe ok=1
	u=$(unified_mount)
	[ -n "$u" ] || return 1
	probe=$u/ferry-probe-$$
	mkdir "$probe" 2>/dev/null || return 1
	[ -e "$probe/cgroup.freeze" ] && ok=0
	rmdir "$probe"
	return $ok
}

# requires FEATURE...: skip the test, saying why, unless the host has each.
requires() {
	local f
	for f in "$@"; do
		case $f in
		root) [ "$(id -u)" -eq 0 ] || skip "needs root" ;;
		cap_sys_resource) cap_in_mask "$(awk '/^CapEff/ { print $2 }' /proc/self/status)" 24 ||
			skip "needs CAP_SYS_RESOURCE, which this host withholds even from root" ;;
		cgroups_v1) ! is_cgroup_v2 && [ -d /sys/fs/cgroup/freezer ] ||
			skip "needs cgroup v1 hierarchies" ;;
		cgroups_v2) is_cgroup_v2 || skip "needs the cgroup v2 unified layout" ;;
		cgroups_hybrid) ! is_cgroup_v2 && [ -n "$(unified_mount)" ] ||
			skip "needs the hybrid cgroup layout" ;;
		unified) [ -n "$(unified_mount)" ] || skip "needs a cgroup2 mount" ;;
		unified_freeze) unified_has_freeze || skip "needs cgroup.freeze (kernel 5.2+)" ;;
		cgroups_memory | cgroups_pids | cgroups_cpuset | cgroups_cpu | cgroups_devices | cgroups_freezer)
			have_controller "${f#cgroups_}" || skip "needs the ${f#cgroups_} cgroup controller" ;;
		cgroups_swap)
			is_cgroup_v2 || [ -e "$(cgroup_dir memory "")/memory.memsw.limit_in_bytes" ] ||
				skip "needs swap accounting" ;;
		netns) command -v ip >/dev/null && ip netns list >/dev/null 2>&1 ||
			skip "needs ip netns (iproute2)" ;;
		timens) [ -e /proc/self/ns/time ] || skip "needs time namespaces (kernel 5.6+)" ;;
		userns) [ -e /proc/self/ns/user ] &&
			[ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" -gt 0 ] ||
			skip "needs user namespaces" ;;
		seccomp) grep -q '^Seccomp:' /proc/self/status || skip "needs seccomp" ;;
		linux32) case $(uname -m) in x86_64 | aarch64) ;; *) skip "needs a 64-bit host with a 32-bit personality" ;; esac ;;
		*) echo "requires: unknown feature '$f'" >&2 && return 1 ;;
		esac
	done
}

# ---------------------------------------------------------------------------
# host-side helpers

# Background processes the test starts (recvtty); killed in teardown.
track_background() {
	echo "$1" >>"$TEST_DIR/background.pids"
}

kill_background() {
	local pid
	[ -f "$TEST_DIR/background.pids" ] || return 0
	for pid in $(cat "$TEST_DIR/background.pids"); do
		kill -9 $(process_tree "$pid") 2>/dev/null || true
	done
	wait 2>/dev/null || true
}

# process_tree PID: PID and all its descendants.
process_tree() {
	local p
	echo "$1"
	for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		process_tree "$p"
	done
}

# start_recvtty [-i FIFO] SOCK OUTFILE [INPUT]: a console-socket receiver on
# the host. With -i, FIFO (made here) takes what the test writes to the
# terminal: `tty_send FIFO TEXT`.
start_recvtty() {
	local in=()
	if [ "$1" = -i ]; then
		mkfifo "$2" || return 1
		in=(-i "$2")
		shift 2
	fi
	local sock=$1 out=$2
	shift 2
	"$PAYLOAD" recvtty "${in[@]}" "$sock" "$@" >"$out" 2>&1 &
	track_background $!
	retry 100 0.02 test -S "$sock"
}

# tty_send FIFO TEXT: type TEXT (printf escapes allowed) into the terminal
# of the recvtty reading FIFO.
tty_send() {
	# bounded: opening a FIFO nobody reads would block forever
	timeout 5 bash -c 'printf "%b" "$2" >"$1"' tty_send "$1" "$2"
}

# create_netns NAME: `ip netns add`, removed in teardown.
create_netns() {
	ip netns add "$1" || return 1
	echo "$1" >>"$TEST_DIR/netns"
}

delete_test_netns() {
	local ns
	[ -f "$TEST_DIR/netns" ] || return 0
	for ns in $(cat "$TEST_DIR/netns"); do
		ip netns delete "$ns" 2>/dev/null || true
	done
}
