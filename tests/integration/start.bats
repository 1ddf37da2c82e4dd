#!/usr/bin/env bats
# start: run the user process of a created container.

load helpers

@test "start runs the process of a created container" {
	payload_args echo started
	ferry create "$ID"
	assert_success
	local out=$FERRY_OUT
	ferry start "$ID"
	assert_success
	wait_for_output "$out" '^started$'
	wait_for_state "$ID" stopped
}

@test "start returns at once and the container keeps running" {
	ferry create "$ID"
	assert_success
	ferry start "$ID"
	assert_success
	assert_eq "$(container_status "$ID")" running status
}

@test "start keeps the init pid create reported" {
	ferry create "$ID"
	assert_success
	local pid
	pid=$(container_pid "$ID")
	ferry start "$ID"
	assert_success
	wait_for_state "$ID" running
	assert_eq "$(container_pid "$ID")" "$pid" pid
	# The init is now the payload itself.
	assert_eq "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "/bin/payload sleep " cmdline
}

@test "start does not wait for the process and ignores its exit status" {
	payload_args exit 3
	ferry create "$ID"
	assert_success
	ferry start "$ID"
	assert_success
	wait_for_state "$ID" stopped
}

@test "start twice fails: the container is already running" {
	ferry create "$ID"
	assert_success
	ferry start "$ID"
	assert_success
	ferry start "$ID"
	assert_failure
	assert_output_has "running"
	assert_eq "$(container_status "$ID")" running status
}

@test "start a stopped container fails" {
	payload_args exit 0
	ferry create "$ID"
	assert_success
	ferry start "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry start "$ID"
	assert_failure
	assert_output_has "stopped"
}

@test "start an unknown container fails with 'does not exist'" {
	ferry start "$ID"
	assert_failure
	assert_output_has "does not exist"
}

@test "start without an id fails" {
	ferry start
	assert_failure
}

@test "the process's stdout and stderr are the ones create was given" {
	set_args /bin/sh -c 'echo to-stdout; echo to-stderr >&2'
	# Not through the wrapper: it merges the two streams.
	"$FERRY" --root "$ROOT" create "$ID" >"$TEST_DIR/out" 2>"$TEST_DIR/err"
	ferry start "$ID"
	assert_success
	wait_for_state "$ID" stopped
	run_cmd cat "$TEST_DIR/out"
	assert_output_has '^to-stdout$'
	assert_output_lacks 'to-stderr'
	run_cmd cat "$TEST_DIR/err"
	assert_output_has '^to-stderr$'
	assert_output_lacks 'to-stdout'
}
