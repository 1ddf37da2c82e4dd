#!/usr/bin/env bats
# Podman with `--runtime $FERRY`: run, exec, pause/unpause, stop, kill, rm
# against a locally imported busybox image.
#
# Podman is configured only through environment variables and flags
# (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF,
# XDG_*, TMPDIR), all pointing into one temp directory $PM_DIR: vfs storage
# (no overlay mounts), cgroupfs, events in a file, no network.
#
# A few paths podman and the runtime use cannot be moved by any flag: the
# runtime's default --root (/run/ferry; podman drops --runtime-flag from the
# cleanup command conmon runs when a container exits), the blob-info cache
# (/var/lib/containers/cache) and the lock file (/dev/shm/libpod_lock). So
# every podman command runs in one private mount namespace, held open by a
# sleeping process, in which /run and /dev/shm are fresh tmpfs and /var/lib
# is a directory of $PM_DIR. Whatever podman mounts stays in there too, and
# goes away with it.

load helpers
load clients

setup_file() {
	command -v podman >/dev/null && client_prereqs_ok || return 0
	PM_DIR=$(mktemp -d /tmp/ferry-podman.XXXXXX)
	export PM_DIR
	local d=$PM_DIR
	mkdir -p "$d"/{storage,runroot,tmp,networks,varlib,xdg-run,xdg-config,xdg-data,home}
	chmod 0700 "$d/xdg-run"
	# Podman's default RLIMIT_NOFILE and RLIMIT_NPROC (1048576) can be
	# above the hard limits podman runs under, and raising a hard limit
	# needs CAP_SYS_RESOURCE, which some hosts withhold even from root
	# (runc fails there too); lowering one is always allowed.
	# runtime_supports_json: podman then passes --log-format=json and
	# --log, and reads the runtime's errors from that log.
	cat >"$d/containers.conf" <<-EOF
		[containers]
		netns = "none"
		log_driver = "k8s-file"
		default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
		[network]
		network_config_dir = "$d/networks"
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$d/tmp/events.log"
		runtime = "ferry"
		runtime_supports_json = ["crun", "runc", "ferry"]
		tmp_dir = "$d/tmp"
		static_dir = "$d/storage/libpod"
		volume_path = "$d/storage/volumes"
		[engine.runtimes]
		ferry = ["$FERRY"]
	EOF
	cat >"$d/storage.conf" <<-EOF
		[storage]
		driver = "vfs"
		graphroot = "$d/storage"
		runroot = "$d/runroot"
	EOF
	echo 'unqualified-search-registries = []' >"$d/registries.conf"
	export CONTAINERS_CONF=$d/containers.conf
	export CONTAINERS_STORAGE_CONF=$d/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$d/registries.conf
	export XDG_RUNTIME_DIR=$d/xdg-run XDG_CONFIG_HOME=$d/xdg-config
	export XDG_DATA_HOME=$d/xdg-data HOME=$d/home TMPDIR=$d/tmp

	unshare --mount --propagation private -- sh -c '
		mount -t tmpfs -o mode=0755 ferry-podman-run /run &&
		mount -t tmpfs -o mode=1777 ferry-podman-shm /dev/shm &&
		mount --bind "$1/varlib" /var/lib &&
		touch "$1/ns-ready" && exec sleep 100000' sh "$d" \
		</dev/null >"$d/ns.log" 2>&1 3>&- &
	PM_NS_PID=$!
	export PM_NS_PID
	echo "$PM_NS_PID" >"$d/ns.pid"
	retry 100 0.05 test -e "$d/ns-ready" || {
		cat "$d/ns.log" >&3
		return 1
	}

	make_client_image "$d/image" >&3 2>&1
	in_pm_ns podman import --change 'CMD ["/bin/payload","sleep"]' \
		"$d/image/rootfs.tar" "$CLIENT_IMAGE" >"$d/import.log" 2>&1 || {
		cat "$d/import.log" >&3
		return 1
	}
}

teardown_file() {
	[ -n "${PM_DIR:-}" ] && [ -d "$PM_DIR" ] || return 0
	# Each test's teardown removed its containers. Leftovers of a broken run
	# (conmon names $PM_DIR in its flags) die with the namespace holder; the
	# mounts in that namespace go with them.
	kill_mentioning "$PM_DIR"
	[ -z "${PM_NS_PID:-}" ] || stop_daemon "$PM_NS_PID"
	unmount_under "$PM_DIR"
	rm -rf --one-file-system "$PM_DIR"
}

# in_pm_ns CMD...: run CMD in podman's mount namespace.
in_pm_ns() {
	nsenter --mount="/proc/$PM_NS_PID/ns/mnt" -- "$@"
}

setup() {
	command -v podman >/dev/null || skip "podman not installed"
	setup_test
	[ -n "${PM_DIR:-}" ] || skip "podman set-up failed in setup_file"
	# Container cgroups go below a parent named after the test, so teardown
	# can remove the parent podman leaves (and conmon's cgroup in it).
	CG_PARENT=ferry-podman-$ID
}

teardown() {
	if [ -n "${TEST_DIR:-}" ] && [ -n "${PM_DIR:-}" ]; then
		timeout 60 nsenter --mount="/proc/$PM_NS_PID/ns/mnt" -- podman --runtime "$FERRY" \
			rm --all --force --time 0 >/dev/null 2>&1 || true
		kill_tagged_processes
		remove_cgroup_tree "$CG_PARENT"
		assert_clean_pm_ns
	fi
	teardown_test
}

# podman's view after its containers are gone: each container's /dev/shm
# unmounted, and nothing left in the runtime's state directory.
assert_clean_pm_ns() {
	local m state
	m=$(awk -v d="$PM_DIR" 'index($5, d "/") == 1 { print $5 }' "/proc/$PM_NS_PID/mountinfo")
	state=$(in_pm_ns ls -A "/run/$RUNTIME" 2>/dev/null || true)
	[ -z "$m" ] && [ -z "$state" ] && return 0
	echo "left behind: mounts: ${m:-none}; /run/$RUNTIME: ${state:-empty}" >&2
	return 1
}

# pm ARGS...: podman with ferry as its runtime, in its namespace, reported
# like `ferry` (sets $status, $output, $lines).
pm() {
	run_cmd timeout -k 5 60 nsenter --mount="/proc/$PM_NS_PID/ns/mnt" -- \
		podman --runtime "$FERRY" "$@"
}

# pm_run ARGS...: `podman run` with the test's tag and cgroup parent.
pm_run() {
	pm run --cgroup-parent "/$CG_PARENT" -e "FERRY_TEST_TAG=$TAG" "$@"
}

# Quiet podman, for conditions polled with `eventually`.
pm_quiet() {
	in_pm_ns podman --runtime "$FERRY" "$@" 2>/dev/null
}

pm_state() {
	pm_quiet inspect --format '{{.State.Status}}' "$1"
}

# The runtime's own view of a container (its default --root, in podman's
# namespace).
runtime_status() {
	in_pm_ns "$FERRY" state "$1" 2>/dev/null | jq -r .status
}

@test "podman: the OCI runtime is the one under test" {
	pm info --format '{{.Host.OCIRuntime.Path}}'
	assert_success
	assert_eq "$output" "$FERRY" "podman's OCI runtime"
}

@test "podman run --rm: output of the container's process" {
	pm_run --rm "$CLIENT_IMAGE" /bin/payload echo hi from ferry
	assert_success
	assert_eq "$output" "hi from ferry"
	# --rm removed it, and the runtime's state with it.
	pm ps --all --quiet
	assert_eq "$output" ""
	assert_eq "$(in_pm_ns ls -A "/run/$RUNTIME")" "" "runtime state left in /run/$RUNTIME"
}

@test "podman run: the image's CMD and environment" {
	pm_run -d --name "$ID-cmd" "$CLIENT_IMAGE"
	assert_success
	pm top "$ID-cmd" pid args
	assert_success
	assert_output_has '^1 +/bin/payload sleep'

	pm_run --rm "$CLIENT_IMAGE" /bin/payload env PATH
	assert_success
	assert_output_has '^/usr/local/sbin:.*/bin$'
	pm_run --rm -e FOO=bar --workdir /tmp "$CLIENT_IMAGE" /bin/sh -c 'echo $FOO; pwd'
	assert_success
	assert_eq "$output" "$(printf 'bar\n/tmp')"
	# containers.conf's default_ulimits, through the spec, set by the runtime.
	pm_run --rm "$CLIENT_IMAGE" /bin/payload rlimit NOFILE
	assert_success
	assert_eq "$output" "1024 1024" "RLIMIT_NOFILE soft and hard"
}

@test "podman run: exit status propagates" {
	pm_run --rm "$CLIENT_IMAGE" /bin/payload exit 3
	assert_status 3
	pm_run --rm "$CLIENT_IMAGE" /bin/sh -c 'exit 42'
	assert_status 42
}

@test "podman kill -s KILL: podman wait reports 137" {
	local name=$ID-killed
	pm_run -d --name "$name" "$CLIENT_IMAGE" /bin/payload sleep
	assert_success
	eventually '[ "$(pm_state "$name")" = running ]'
	pm kill --signal KILL "$name"
	assert_success
	pm wait "$name"
	assert_success
	assert_eq "$output" 137 "exit code from podman wait"
	pm rm "$name"
	assert_success
}

@test "podman run: a missing executable is status 127 with the runtime's error" {
	pm_run --rm "$CLIENT_IMAGE" /no/such/binary
	assert_status 127
	# Podman read the message from the runtime's --log (json), not raw lines.
	assert_output_has '/no/such/binary'
	assert_output_lacks '"level"|"msg"|level='
}

@test "podman run -i: stdin reaches the container" {
	local out=$TEST_DIR/stdin-out
	printf 'line one\nline two\n' |
		timeout 60 nsenter --mount="/proc/$PM_NS_PID/ns/mnt" -- podman --runtime "$FERRY" \
			run --rm -i --cgroup-parent "/$CG_PARENT" -e "FERRY_TEST_TAG=$TAG" \
			"$CLIENT_IMAGE" /bin/payload stdin >"$out" 2>&1 && status=0 || status=$?
	output=$(cat "$out")
	echo "$output" >&2
	assert_success
	assert_eq "$output" "$(printf 'line one\nline two')"
}

@test "podman run -t, exec -t: the processes get a terminal" {
	pm_run --rm -t "$CLIENT_IMAGE" /bin/payload tty
	assert_success
	assert_output_has '^stdin /dev/pts/[0-9]+'
	assert_output_has '^stdout /dev/pts/[0-9]+'

	pm_run -d --name "$ID-tty" "$CLIENT_IMAGE" /bin/payload sleep
	assert_success
	pm exec -t "$ID-tty" /bin/payload tty
	assert_success
	assert_output_has '^stdin /dev/pts/[0-9]+'
	assert_output_has '^stdout /dev/pts/[0-9]+'
}

@test "podman restart, top, stats" {
	local name=$ID-re
	pm_run -d --name "$name" "$CLIENT_IMAGE" /bin/payload sleep
	assert_success
	eventually '[ "$(pm_state "$name")" = running ]'
	local pid1
	pid1=$(pm_quiet inspect --format '{{.State.Pid}}' "$name")
	pm restart "$name"
	assert_success
	eventually '[ "$(pm_state "$name")" = running ]'
	local pid2
	pid2=$(pm_quiet inspect --format '{{.State.Pid}}' "$name")
	[ "$pid1" != "$pid2" ] || {
		echo "restart kept pid $pid1" >&2
		return 1
	}
	assert_eq "$(tr '\0' ' ' <"/proc/$pid2/cmdline")" "/bin/payload sleep " "cmdline of the new init"

	pm top "$name" pid args
	assert_success
	assert_output_has '^1 +/bin/payload sleep'
	# stats reads the container's cgroup under the parent podman asked for.
	pm stats --no-stream --format '{{.PIDs}}' "$name"
	assert_success
	assert_eq "$output" 1 "pids in the container's cgroup"
}

@test "podman run -d, exec, pause/unpause, stop, rm" {
	local name=$ID-life
	pm_run -d --name "$name" "$CLIENT_IMAGE" /bin/sh -c 'echo started; exec /bin/payload sleep'
	assert_success
	local cid=$output
	eventually '[ "$(pm_state "$name")" = running ]'
	# ferry, not some other runtime, holds it.
	assert_eq "$(runtime_status "$cid")" running "ferry state of $cid"
	eventually 'pm_quiet logs "$name" 2>/dev/null | grep -qx started'

	pm exec "$name" /bin/payload echo in exec
	assert_success
	assert_eq "$output" "in exec"
	pm exec -e GREETING=hello "$name" /bin/payload env GREETING
	assert_success
	assert_eq "$output" "hello"
	pm exec "$name" /bin/payload exit 5
	assert_status 5
	pm exec "$name" /no/such/binary
	assert_status 127
	assert_output_has '/no/such/binary'
	# The exec'd process shares the container's pid namespace: init is 1.
	pm exec "$name" /bin/cat /proc/1/cmdline
	assert_success
	assert_output_has 'payload'

	pm pause "$name"
	assert_success
	pm inspect --format '{{.State.Status}} {{.State.Paused}}' "$name"
	assert_eq "$output" "paused true"
	assert_eq "$(runtime_status "$cid")" paused "ferry state of $cid"
	pm unpause "$name"
	assert_success
	pm inspect --format '{{.State.Status}} {{.State.Paused}}' "$name"
	assert_eq "$output" "running false"
	assert_eq "$(runtime_status "$cid")" running "ferry state of $cid"
	pm exec "$name" /bin/payload echo after unpause
	assert_eq "$output" "after unpause"

	# payload sleep exits 128+15 on SIGTERM: no escalation needed.
	local t0=$SECONDS
	pm stop --time 10 "$name"
	assert_success
	[ $((SECONDS - t0)) -lt 8 ] || {
		echo "stop took $((SECONDS - t0))s for a process that handles SIGTERM" >&2
		return 1
	}
	pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$name"
	assert_eq "$output" "exited 143"

	pm rm "$name"
	assert_success
	pm ps --all --quiet
	assert_eq "$output" ""
	assert_eq "$(in_pm_ns ls -A "/run/$RUNTIME")" "" "runtime state left in /run/$RUNTIME"
}

@test "podman stop: a process that ignores SIGTERM gets SIGKILL" {
	local name=$ID-stubborn
	pm_run -d --name "$name" "$CLIENT_IMAGE" \
		/bin/sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done'
	assert_success
	eventually 'pm_quiet logs "$name" 2>/dev/null | grep -qx ready'
	local t0=$SECONDS
	pm stop --time 2 "$name"
	assert_success
	assert_output_has 'resorting to SIGKILL'
	[ $((SECONDS - t0)) -ge 2 ] || {
		echo "stop returned before the 2s grace period" >&2
		return 1
	}
	pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$name"
	assert_eq "$output" "exited 137"
	pm rm "$name"
	assert_success
}

@test "podman kill: a signal reaches the container's process" {
	local name=$ID-sig
	pm_run -d --name "$name" "$CLIENT_IMAGE" /bin/payload signal-wait
	assert_success
	eventually 'pm_quiet logs "$name" 2>/dev/null | grep -qx ready'
	pm kill --signal USR1 "$name"
	assert_success
	eventually '[ "$(pm_state "$name")" = exited ]'
	pm logs "$name"
	assert_output_has '^SIGUSR1$'
	pm rm "$name"
	assert_success
}


# podman asks a criu binary for its version before it calls the runtime's
# checkpoint (and requires `ferry checkpoint --help` to succeed); ferry
# itself never runs criu.
requires_podman_checkpoint() {
	command -v criu >/dev/null || skip "podman's checkpoint needs a criu binary for its version probe"
}

# The counter in the container's /tmp/n. The loop rewrites the file with
# `echo $i > /tmp/n`, so a read can fall between the truncation and the
# write and see it empty: read again then.
counter_of() {
	local i
	for ((i = 0; i < 50; i++)); do
		pm exec "$1" cat /tmp/n
		assert_success
		if [[ $output =~ ^[0-9]+$ ]]; then
			echo "$output"
			return 0
		fi
		sleep 0.1
	done
	echo "counter_of $1: /tmp/n holds no number: '$output'" >&2
	return 1
}

@test "podman container checkpoint and restore: the process goes on counting" {
	requires_podman_checkpoint
	local name=cp-$ID
	pm_run -d --name "$name" "$CLIENT_IMAGE" /bin/sh -c \
		'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done'
	assert_success
	eventually 50 "pm_quiet exec $name test -s /tmp/n"
	pm container checkpoint "$name"
	assert_success
	assert_eq "$(pm_state "$name")" exited "state after checkpoint"
	pm container restore "$name"
	assert_success
	assert_eq "$(pm_state "$name")" running "state after restore"
	local a b
	a=$(counter_of "$name")
	sleep 0.5
	b=$(counter_of "$name")
	[ "$b" -gt "$a" ] || { echo "counter did not advance: $a then $b" >&2; return 1; }
}

@test "podman container checkpoint --export and restore --import under a new name" {
	requires_podman_checkpoint
	local name=cpx-$ID
	pm_run -d --name "$name" "$CLIENT_IMAGE" /bin/sh -c \
		'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.1; done'
	assert_success
	eventually 50 "pm_quiet exec $name test -s /tmp/n"
	pm container checkpoint --export "$TEST_DIR/cp.tar.gz" "$name"
	assert_success
	[ -s "$TEST_DIR/cp.tar.gz" ]
	pm container restore --import "$TEST_DIR/cp.tar.gz" --name "$name-2"
	assert_success
	assert_eq "$(pm_state "$name-2")" running "state of the imported container"
	local a b
	a=$(counter_of "$name-2")
	sleep 0.5
	b=$(counter_of "$name-2")
	[ "$b" -gt "$a" ] || { echo "counter did not advance: $a then $b" >&2; return 1; }
}

@test "podman container checkpoint and restore of a -t container: its terminal works through the new pty" {
	requires_podman_checkpoint
	local name=cpt-$ID
	pm_run -d -t --name "$name" "$CLIENT_IMAGE" /bin/sh -c \
		'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; echo tick $i; sleep 0.1; done'
	assert_success
	eventually 50 "pm_quiet exec $name test -s /tmp/n"
	pm container checkpoint "$name"
	assert_success
	assert_eq "$(pm_state "$name")" exited "state after checkpoint"
	# podman passes --console-socket to the restore, as to create
	pm container restore "$name"
	assert_success
	assert_eq "$(pm_state "$name")" running "state after restore"
	pm exec "$name" readlink /proc/1/fd/1
	assert_success
	assert_output_has '^/dev/pts/[0-9]+$'
	# A tick written after the restore reached conmon through the new pty.
	local a b
	a=$(counter_of "$name")
	eventually 50 "[ \"\$(pm_quiet exec $name cat /tmp/n)\" -gt $a ]"
	b=$(counter_of "$name")
	eventually 50 "pm_quiet logs $name | tr -d '\r' | grep -qx 'tick $b'"
}
