#!/usr/bin/env bats
# run: create + start, in the foreground (waiting for the process and
# returning its status) or detached with -d.

load helpers

# Start `run` (foreground) in the background; its status lands in
# $TEST_DIR/run.status and its output in $TEST_DIR/run.out.
run_in_background() {
	(
		timeout -k 5 "$FERRY_TIMEOUT" "$FERRY" --root "$ROOT" run "$@" \
			>"$TEST_DIR/run.out" 2>&1 && rc=0 || rc=$?
		echo "$rc" >"$TEST_DIR/run.status"
	) &
	track_background $!
}

background_status() {
	retry 100 0.05 test -s "$TEST_DIR/run.status" || return 1
	cat "$TEST_DIR/run.status"
}

@test "run prints the process's output and returns 0" {
	payload_args echo hello world
	ferry run "$ID"
	assert_success
	assert_eq "$output" "hello world" output
}

@test "run returns the process's exit status" {
	payload_args exit 3
	ferry run "$ID"
	assert_status 3
}

@test "run returns 128+N when the process is killed by signal N" {
	run_in_background "$ID"
	wait_for_state "$ID" running
	ferry kill "$ID" KILL
	assert_success
	assert_eq "$(background_status)" 137 "run status"
}

@test "run returns 128+N for a non-init process killed by a signal" {
	# Without a pid namespace busybox sleep is not an init, so TERM kills it.
	update_config '.linux.namespaces |= map(select(.type != "pid"))'
	set_args /bin/sleep 100
	run_in_background "$ID"
	wait_for_state "$ID" running
	ferry kill "$ID" TERM
	assert_success
	assert_eq "$(background_status)" 143 "run status"
}

@test "run deletes the container after the process exits" {
	payload_args exit 0
	ferry run "$ID"
	assert_success
	ferry state "$ID"
	assert_failure
	assert_output_has "does not exist"
	# ... so the id can be used again.
	ferry run "$ID"
	assert_success
}

@test "run --keep keeps the stopped container" {
	payload_args exit 0
	ferry run --keep "$ID"
	assert_success
	assert_eq "$(container_status "$ID")" stopped status
	ferry delete "$ID"
	assert_success
}

@test "run passes stdin to the process" {
	payload_args stdin
	printf 'line one\nline two\n' >"$TEST_DIR/input"
	ferry run "$ID" <"$TEST_DIR/input"
	assert_success
	assert_eq "$output" "$(printf 'line one\nline two')" output
}

@test "run gives the process exactly stdin, stdout and stderr" {
	payload_args fds
	ferry run "$ID"
	assert_success
	assert_eq "${#lines[@]}" 3 "open fds"
	assert_output_has '^0 -> '
	assert_output_has '^1 -> '
	assert_output_has '^2 -> '
}

@test "run --preserve-fds 2 passes fds 3 and 4" {
	payload_args fds
	echo a >"$TEST_DIR/fd3"
	echo b >"$TEST_DIR/fd4"
	ferry run --preserve-fds 2 "$ID" 3<"$TEST_DIR/fd3" 4<"$TEST_DIR/fd4"
	assert_success
	assert_output_has '^3 -> .*/fd3$'
	assert_output_has '^4 -> .*/fd4$'
	assert_output_lacks '^5 -> '
}

@test "run -d returns while the container runs" {
	ferry run -d "$ID"
	assert_success
	assert_eq "$(container_status "$ID")" running status
}

@test "run -d: the container's output goes to the runtime's stdout" {
	payload_args echo detached-output
	ferry run -d "$ID"
	assert_success
	wait_for_output "$FERRY_OUT" '^detached-output$'
	wait_for_state "$ID" stopped
}

@test "run -d --pid-file writes the process's pid" {
	ferry run -d --pid-file "$TEST_DIR/pid" "$ID"
	assert_success
	assert_eq "$(cat "$TEST_DIR/pid")" "$(container_pid "$ID")" "pid file"
	[ -d "/proc/$(cat "$TEST_DIR/pid")" ]
}

@test "run -d: a process that exits leaves a stopped container" {
	payload_args exit 7
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry state "$ID"
	assert_success
}

@test "run -b runs the bundle from another directory" {
	payload_args echo bundle-flag
	cd /
	ferry run -b "$BUNDLE" "$ID"
	assert_success
	assert_eq "$output" bundle-flag output
}

@test "run an id that is in use fails" {
	run_detached
	ferry run "$ID"
	assert_failure
	assert_eq "$(container_status "$ID")" running status
}

@test "run: the process is pid 1 of its pid namespace" {
	payload_args pid
	ferry run "$ID"
	assert_success
	assert_eq "$output" 1 pid
}

@test "run --no-subreaper still returns the exit status" {
	payload_args exit 5
	ferry run --no-subreaper "$ID"
	assert_status 5
}
