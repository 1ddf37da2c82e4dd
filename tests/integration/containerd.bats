#!/usr/bin/env bats
# containerd with `ctr run --runc-binary $FERRY`: containerd's runc shim
# (io.containerd.runc.v2) drives ferry as it drives runc, passing --root,
# --log and --log-format json, and reading the log on errors.
#
# One private containerd per file: its own config.toml (root, state, grpc
# and ttrpc sockets in a temp directory $CTD_DIR; CRI and the snapshotters it
# does not need disabled), the native snapshotter (plain copies, no overlay
# mounts), and `ctr` reaches it through CONTAINERD_ADDRESS,
# CONTAINERD_NAMESPACE and CONTAINERD_SNAPSHOTTER. The shim's sockets go to
# /run/containerd/s whatever the config says, so containerd runs in a
# private mount namespace with a fresh tmpfs on /run; the rootfs mounts the
# shim makes stay in that namespace and go away with it.

load helpers
load clients

setup_file() {
	command -v containerd >/dev/null && command -v ctr >/dev/null &&
		command -v containerd-shim-runc-v2 >/dev/null && client_prereqs_ok || return 0
	CTD_DIR=$(mktemp -d /tmp/ferry-containerd.XXXXXX)
	export CTD_DIR
	local d=$CTD_DIR
	mkdir -p "$d"/{root,state,opt,tmp,fifo,runtime-root}
	cat >"$d/config.toml" <<-EOF
		version = 2
		root = "$d/root"
		state = "$d/state"
		disabled_plugins = [
		  "io.containerd.grpc.v1.cri",
		  "io.containerd.snapshotter.v1.aufs",
		  "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.devmapper",
		  "io.containerd.snapshotter.v1.overlayfs",
		  "io.containerd.snapshotter.v1.zfs",
		  "io.containerd.tracing.processor.v1.otlp",
		]
		[grpc]
		  address = "$d/containerd.sock"
		[ttrpc]
		  address = "$d/containerd.sock.ttrpc"
		[debug]
		  level = "debug"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$d/opt"
	EOF
	export CONTAINERD_ADDRESS=$d/containerd.sock
	# Also the first component of every container's cgroup path.
	export CONTAINERD_NAMESPACE=ferry-ctd-$$
	export CONTAINERD_SNAPSHOTTER=native
	# The shim writes exec process specs to $TMPDIR.
	TMPDIR=$d/tmp unshare --mount --propagation private -- sh -c '
		mount -t tmpfs -o mode=0755 ferry-containerd-run /run &&
		exec containerd --config "$1"' sh "$d/config.toml" \
		</dev/null >"$d/containerd.log" 2>&1 3>&- &
	CTD_PID=$!
	export CTD_PID
	retry 200 0.05 ctr version >/dev/null 2>&1 || {
		echo "containerd did not come up; its log:" >&3
		tail -30 "$d/containerd.log" >&3
		return 1
	}

	make_client_image "$d/image" >&3 2>&1
	ctr images import "$d/image/oci-image.tar" >"$d/import.log" 2>&1 || {
		cat "$d/import.log" >&3
		return 1
	}
}

teardown_file() {
	[ -n "${CTD_DIR:-}" ] && [ -d "$CTD_DIR" ] || return 0
	local id
	for id in $(ctr containers list --quiet 2>/dev/null); do
		ctr_cleanup "$id"
	done
	[ -z "${CTD_PID:-}" ] || stop_daemon "$CTD_PID"
	# Shims of a broken run name $CTD_DIR in their flags.
	kill_mentioning "$CTD_DIR"
	remove_cgroup_tree "$CONTAINERD_NAMESPACE"
	unmount_under "$CTD_DIR"
	rm -rf --one-file-system "$CTD_DIR"
}

setup() {
	command -v containerd >/dev/null || skip "containerd not installed"
	command -v ctr >/dev/null || skip "ctr not installed"
	command -v containerd-shim-runc-v2 >/dev/null || skip "containerd-shim-runc-v2 not installed"
	setup_test
	[ -n "${CTD_DIR:-}" ] || skip "containerd set-up failed in setup_file"
	# The runtime's --root, as the shim passes it: --runc-root/NAMESPACE.
	RT_ROOT=$CTD_DIR/runtime-root/$CONTAINERD_NAMESPACE
}

teardown() {
	if [ -n "${TEST_DIR:-}" ] && [ -n "${CTD_DIR:-}" ]; then
		local id
		for id in $(ctr containers list --quiet 2>/dev/null); do
			ctr_cleanup "$id"
		done
		kill_tagged_processes
		assert_clean_runtime_root
	fi
	teardown_test
}

# Kill, delete and remove a container whatever state it is in.
ctr_cleanup() {
	timeout 10 ctr task kill --signal SIGKILL "$1" >/dev/null 2>&1 || true
	timeout 10 ctr task delete --force "$1" >/dev/null 2>&1 || true
	timeout 10 ctr containers rm "$1" >/dev/null 2>&1 || true
}

assert_clean_runtime_root() {
	local left
	left=$(ls -A "$RT_ROOT" 2>/dev/null || true)
	[ -z "$left" ] && return 0
	echo "runtime state left in $RT_ROOT: $left" >&2
	return 1
}

# c ARGS...: ctr, reported like `ferry` (sets $status, $output, $lines).
c() {
	run_cmd timeout -k 5 60 ctr "$@"
}

# c_run ARGS...: `ctr run` with ferry as the runc binary, its root in
# $CTD_DIR, FIFOs in $CTD_DIR and the test's tag in the environment.
c_run() {
	c run --runc-binary "$FERRY" --runc-root "$CTD_DIR/runtime-root" \
		--fifo-dir "$CTD_DIR/fifo" --env "FERRY_TEST_TAG=$TAG" "$@"
}

c_exec() {
	c task exec --fifo-dir "$CTD_DIR/fifo" "$@"
}

# The status column of `ctr task ls` for one task.
task_status() {
	ctr task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'
}

rt_status() {
	timeout 10 "$FERRY" --root "$RT_ROOT" state "$1" 2>/dev/null | jq -r .status
}

@test "ctr run --rm: output of the container's process" {
	c_run --rm "$CLIENT_IMAGE" "$ID" /bin/payload echo hi from ferry
	assert_success
	assert_eq "$output" "hi from ferry"
	c containers list --quiet
	assert_eq "$output" ""
}

@test "ctr run: the image's environment and CMD" {
	c_run --rm "$CLIENT_IMAGE" "$ID" /bin/payload env PATH
	assert_success
	assert_output_has '^/usr/local/sbin:.*/bin$'
	# No arguments: the image's CMD, `payload sleep`; kill it from outside.
	c_run -d "$CLIENT_IMAGE" "$ID-cmd"
	assert_success
	eventually '[ "$(task_status "$ID-cmd")" = RUNNING ]'
	c task ps "$ID-cmd"
	assert_success
	local pid
	pid=$(ctr task ls | awk -v id="$ID-cmd" '$1 == id { print $2 }')
	assert_eq "$(tr '\0' ' ' </proc/"$pid"/cmdline)" "/bin/payload sleep " "cmdline of the task"
}

@test "ctr run: exit status propagates" {
	c_run --rm "$CLIENT_IMAGE" "$ID" /bin/payload exit 3
	assert_status 3
	c_run --rm "$CLIENT_IMAGE" "$ID" /bin/sh -c 'exit 42'
	assert_status 42
}

@test "ctr run: the runtime's error reaches ctr through its json log" {
	c_run --rm "$CLIENT_IMAGE" "$ID" /no/such/binary
	assert_failure
	# The shim read the message from --log (json), not raw log lines.
	assert_output_has 'OCI runtime create failed: .*/no/such/binary'
	assert_output_lacks '"level"|"msg"|level='
	ctr containers rm "$ID" >/dev/null 2>&1 || true
}

@test "ctr run -t, ctr task exec -t: the processes get a terminal" {
	command -v script >/dev/null || skip "needs script(1) for a terminal"
	local cmd
	cmd="ctr run --runc-binary '$FERRY' --runc-root '$CTD_DIR/runtime-root'"
	cmd+=" --fifo-dir '$CTD_DIR/fifo' --env FERRY_TEST_TAG=$TAG --rm -t"
	cmd+=" $CLIENT_IMAGE $ID /bin/payload tty"
	run_cmd timeout -k 5 60 script -qec "$cmd" /dev/null
	assert_success
	# script(1) echoes its stdin's EOF as ^@ in front of the first line.
	assert_output_has 'stdin /dev/pts/[0-9]+'
	assert_output_has '^stdout /dev/pts/[0-9]+'

	c_run -d "$CLIENT_IMAGE" "$ID-d" /bin/payload sleep
	assert_success
	eventually '[ "$(task_status "$ID-d")" = RUNNING ]'
	cmd="ctr task exec --fifo-dir '$CTD_DIR/fifo' -t --exec-id tty1 $ID-d /bin/payload tty"
	run_cmd timeout -k 5 60 script -qec "$cmd" /dev/null
	assert_success
	assert_output_has 'stdin /dev/pts/[0-9]+'
	assert_output_has '^stdout /dev/pts/[0-9]+'
}

@test "ctr run -d, task exec, pause/resume, kill, delete, container rm" {
	c_run -d --log-uri "file://$TEST_DIR/$ID.log" "$CLIENT_IMAGE" "$ID" \
		/bin/sh -c 'echo started; exec /bin/payload sleep'
	assert_success
	wait_for_output "$TEST_DIR/$ID.log" '^started$'
	assert_eq "$(task_status "$ID")" RUNNING "ctr task status"
	# The shim gave ferry its --root: ferry's own state agrees.
	assert_eq "$(rt_status "$ID")" running "ferry state"

	c_exec --exec-id e1 "$ID" /bin/payload echo in exec
	assert_success
	assert_eq "$output" "in exec"
	c_exec --exec-id e2 "$ID" /bin/payload exit 5
	assert_status 5
	c_exec --exec-id e3 --cwd /tmp "$ID" /bin/payload cwd
	assert_success
	assert_eq "$output" "/tmp"
	c_exec --exec-id e4 "$ID" /bin/cat /proc/1/cmdline
	assert_success
	assert_output_has 'payload'
	# A failed exec: the shim reads ferry's error from its json log.
	c_exec --exec-id e5 "$ID" /no/such/binary
	assert_failure
	assert_output_has 'OCI runtime exec failed: .*/no/such/binary'
	assert_output_lacks '"level"|"msg"|level='

	c task ps "$ID"
	assert_success
	local pid
	pid=$(ctr task ls | awk -v id="$ID" '$1 == id { print $2 }')
	assert_output_has "^$pid( |$)"

	# The shim reads the cgroup the spec named (/NAMESPACE/ID): ferry put
	# the container there.
	c task metrics "$ID"
	assert_success
	assert_output_has '^pids.current +1( |$)'

	c task pause "$ID"
	assert_success
	assert_eq "$(task_status "$ID")" PAUSED "ctr task status"
	assert_eq "$(rt_status "$ID")" paused "ferry state"
	c task resume "$ID"
	assert_success
	assert_eq "$(task_status "$ID")" RUNNING "ctr task status"
	assert_eq "$(rt_status "$ID")" running "ferry state"
	c_exec --exec-id e6 "$ID" /bin/payload echo after resume
	assert_eq "$output" "after resume"

	# payload sleep exits 128+15 on SIGTERM, ctr task kill's default.
	c task kill "$ID"
	assert_success
	eventually '[ "$(task_status "$ID")" = STOPPED ]'
	c task delete "$ID"
	assert_success
	assert_output_has 'exit code 143'
	c task ls --quiet
	assert_eq "$output" ""
	assert_eq "$(ls -A "$RT_ROOT")" "" "ferry state after task delete"
	c containers rm "$ID"
	assert_success
	c containers list --quiet
	assert_eq "$output" ""
}

@test "ctr task kill: a signal reaches the process; SIGKILL for one that ignores TERM" {
	c_run -d --log-uri "file://$TEST_DIR/$ID.log" "$CLIENT_IMAGE" "$ID" /bin/payload signal-wait
	assert_success
	eventually '[ "$(task_status "$ID")" = RUNNING ]'
	wait_for_output "$TEST_DIR/$ID.log" '^ready$'
	c task kill --signal SIGUSR1 "$ID"
	assert_success
	eventually '[ "$(task_status "$ID")" = STOPPED ]'
	wait_for_output "$TEST_DIR/$ID.log" '^SIGUSR1$'
	c task delete "$ID"
	assert_success
	c containers rm "$ID"
	assert_success

	c_run -d --log-uri "file://$TEST_DIR/$ID-2.log" "$CLIENT_IMAGE" "$ID" \
		/bin/sh -c 'trap "" TERM; echo ready; while :; do sleep 0.1; done'
	assert_success
	wait_for_output "$TEST_DIR/$ID-2.log" '^ready$'
	c task kill --signal SIGTERM "$ID"
	assert_success
	sleep 0.5
	assert_eq "$(task_status "$ID")" RUNNING "status after an ignored SIGTERM"
	c task kill --signal SIGKILL "$ID"
	assert_success
	eventually '[ "$(task_status "$ID")" = STOPPED ]'
	c task delete "$ID"
	assert_success
	assert_output_has 'exit code 137'
	c containers rm "$ID"
	assert_success
}


@test "ctr task checkpoint: the shim's runtime checkpoint writes ferry images" {
	c_run -d --log-uri "file://$TEST_DIR/$ID.log" "$CLIENT_IMAGE" "$ID" \
		/bin/sh -c 'echo started; i=0; while true; do i=$((i+1)); sleep 0.1; done'
	assert_success
	wait_for_output "$TEST_DIR/$ID.log" '^started$'
	c task checkpoint --image-path "$TEST_DIR/cp" "$ID"
	assert_success
	# Without --exit the task keeps running.
	assert_eq "$(task_status "$ID")" RUNNING "ctr task status after checkpoint"
	[ -e "$TEST_DIR/cp/inventory.img" ] || { ls -la "$TEST_DIR/cp" >&2; return 1; }
	run_cmd "$FERRY" inspect --format json "$TEST_DIR/cp"
	assert_success
	# The shell is pid 1 of its namespace (a sleep child may be there too).
	assert_eq "$(jq '[.tasks[] | select(.pid == 1)] | length' <<<"$output")" 1 "pid 1 in the image"
}

@test "ctr containers checkpoint --task and restore --live: the task goes on counting" {
	c_run -d --log-uri "file://$TEST_DIR/$ID.log" "$CLIENT_IMAGE" "$ID" \
		/bin/sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; echo tick $i; sleep 0.1; done'
	assert_success
	wait_for_output "$TEST_DIR/$ID.log" '^tick 30$'
	# The checkpoint goes into containerd's content store as an image.
	c containers checkpoint --task "$ID" "ferry.test/checkpoint:$ID"
	assert_success
	c task kill --signal SIGKILL "$ID"
	assert_success
	eventually '[ "$(task_status "$ID")" = STOPPED ]'
	c task delete "$ID"
	assert_success
	c containers rm "$ID"
	assert_success
	# restore --live: the shim runs ferry restore on the unpacked images.
	# ctr gives the task its own stdio as fifos under /run/containerd,
	# which must be the daemon's (its /run is private): ctr runs in the
	# daemon's mount namespace.
	run_cmd timeout -k 5 60 nsenter --mount="/proc/$CTD_PID/ns/mnt" -- \
		ctr containers restore --live "$ID" "ferry.test/checkpoint:$ID" </dev/null
	assert_success
	eventually '[ "$(task_status "$ID")" = RUNNING ]'
	assert_eq "$(rt_status "$ID")" running "ferry state"
	# (a read between the loop's truncate and write sees an empty file)
	local a="" i
	for ((i = 0; i < 50; i++)); do
		c_exec --exec-id "n$i" "$ID" /bin/cat /tmp/n
		assert_success
		[[ $output =~ ^[0-9]+$ ]] && a=$output && break
		sleep 0.1
	done
	# the shell's own count, from its memory (the restored rootfs is the
	# image's, without the old /tmp/n): a new shell would start from 1
	[[ $a =~ ^[0-9]+$ ]] && [ "$a" -ge 30 ] || { echo "/tmp/n: '$a'" >&2; return 1; }
	eventually "[ \"\$(ctr task exec --fifo-dir '$CTD_DIR/fifo' --exec-id n\$RANDOM '$ID' /bin/cat /tmp/n)\" -gt $a ]"
	c task kill --signal SIGKILL "$ID"
	eventually '[ "$(task_status "$ID")" = STOPPED ]'
	c task delete "$ID"
	c containers rm "$ID"
	c images rm "ferry.test/checkpoint:$ID"
}
