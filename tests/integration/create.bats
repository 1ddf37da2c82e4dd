#!/usr/bin/env bats
# create: set the container up, start its init, but do not run the user
# process until `start`.

load helpers

@test "create leaves a created container whose process has not run" {
	payload_args echo hello-from-process
	ferry create "$ID"
	assert_success
	local out=$FERRY_OUT

	ferry state "$ID"
	assert_success
	assert_eq "$(jq -r .status <<<"$output")" created status
	local pid
	pid=$(jq -r .pid <<<"$output")
	[ "$pid" -gt 0 ]
	[ -d "/proc/$pid" ]
	# Give a wrongly started process time to print.
	sleep 0.2
	run_cmd cat "$out"
	assert_output_lacks hello-from-process

	ferry start "$ID"
	assert_success
	wait_for_output "$out" '^hello-from-process$'
}

@test "create's init is already in the container's namespaces" {
	ferry create "$ID"
	assert_success
	local pid
	pid=$(container_pid "$ID")
	local ns
	for ns in pid mnt net ipc uts; do
		[ "$(readlink "/proc/$pid/ns/$ns")" != "$(readlink "/proc/self/ns/$ns")" ] || {
			echo "init shares the host's $ns namespace" >&2
			return 1
		}
	done
}

@test "create --pid-file writes the init pid" {
	ferry create --pid-file "$TEST_DIR/pid" "$ID"
	assert_success
	[ -s "$TEST_DIR/pid" ]
	assert_eq "$(cat "$TEST_DIR/pid")" "$(container_pid "$ID")" "pid file"
}

@test "create --pid-file with a relative path is relative to the cwd" {
	mkdir "$TEST_DIR/piddir"
	cd "$TEST_DIR/piddir"
	ferry create --bundle "$BUNDLE" --pid-file pid "$ID"
	assert_success
	assert_eq "$(cat "$TEST_DIR/piddir/pid")" "$(container_pid "$ID")" "pid file"
}

@test "create --bundle works from another directory and records the absolute path" {
	cd "$TEST_DIR"
	ferry create --bundle bundle "$ID"
	assert_success
	ferry state "$ID"
	assert_success
	assert_eq "$(jq -r .bundle <<<"$output")" "$BUNDLE" bundle
	assert_eq "$(jq -r .rootfs <<<"$output")" "$BUNDLE/rootfs" rootfs
}

@test "create -b is --bundle" {
	cd /
	ferry create -b "$BUNDLE" "$ID"
	assert_success
	wait_for_state "$ID" created
}

@test "create with an id that exists fails and leaves the first container alone" {
	ferry create "$ID"
	assert_success
	local pid
	pid=$(container_pid "$ID")

	ferry create "$ID"
	assert_failure
	assert_output_has "$ID|exists"

	assert_eq "$(container_status "$ID")" created status
	assert_eq "$(container_pid "$ID")" "$pid" pid
}

@test "create refuses ids that are not plain names" {
	local bad
	for bad in "../escape" "a/b" "." ".."; do
		ferry create "$bad"
		assert_failure
	done
	[ ! -e "$TEST_DIR/escape" ]
	ferry list -q
	assert_success
	assert_eq "$output" "" "containers"
}

@test "create without an id fails with a usage error" {
	ferry create
	assert_failure
	ferry list -q
	assert_eq "$output" "" "containers"
}

@test "create in a bundle without config.json fails naming the file" {
	rm "$BUNDLE/config.json"
	ferry create "$ID"
	assert_failure
	assert_output_has "config.json"
	ferry list -q
	assert_eq "$output" "" "containers"
}

@test "create then delete without start runs nothing and leaves nothing" {
	payload_args write /dev/shm/ran yes
	ferry create "$ID"
	assert_success
	local pid
	pid=$(container_pid "$ID")
	ferry delete "$ID"
	assert_success
	retry 100 0.05 pid_gone "$pid"
	ferry state "$ID"
	assert_failure
	assert_output_has "does not exist"
}

@test "create --no-pivot runs the container" {
	payload_args echo no-pivot
	ferry create --no-pivot "$ID"
	assert_success
	local out=$FERRY_OUT
	ferry start "$ID"
	assert_success
	wait_for_output "$out" '^no-pivot$'
}

@test "create --no-new-keyring runs the container" {
	payload_args echo keyring
	ferry create --no-new-keyring "$ID"
	assert_success
	local out=$FERRY_OUT
	ferry start "$ID"
	assert_success
	wait_for_output "$out" '^keyring$'
}

@test "create --preserve-fds passes extra descriptors" {
	payload_args fds
	echo data >"$TEST_DIR/extra"
	ferry create --preserve-fds 1 "$ID" 3<"$TEST_DIR/extra"
	assert_success
	local out=$FERRY_OUT
	ferry start "$ID"
	assert_success
	wait_for_state "$ID" stopped
	wait_for_output "$out" "^3 -> .*/extra$"
}

@test "two containers from one bundle run side by side" {
	ferry create "$ID"
	assert_success
	ferry create "$ID-b"
	assert_success
	ferry start "$ID"
	assert_success
	ferry start "$ID-b"
	assert_success
	wait_for_state "$ID" running
	wait_for_state "$ID-b" running
	[ "$(container_pid "$ID")" != "$(container_pid "$ID-b")" ]
}
