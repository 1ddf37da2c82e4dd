#!/usr/bin/env bats
# kill: send a signal to the container's init (or, with --all, every process).

load helpers

# Start `payload signal-wait` detached and wait for its "ready".
start_signal_waiter() {
	local id=${1:-$ID}
	payload_args signal-wait
	run_detached "$id"
	wait_for_output "$CONTAINER_OUT" '^ready$'
}

@test "kill without a signal sends SIGTERM" {
	start_signal_waiter
	ferry kill "$ID"
	assert_success
	wait_for_output "$CONTAINER_OUT" '^SIGTERM$'
	wait_for_state "$ID" stopped
}

@test "kill accepts KILL, SIGKILL and 9" {
	local sig
	for sig in KILL SIGKILL 9; do
		run_detached "$ID-$sig"
		ferry kill "$ID-$sig" "$sig"
		assert_success
		wait_for_state "$ID-$sig" stopped
	done
}

@test "kill delivers the named signal: USR1" {
	start_signal_waiter
	ferry kill "$ID" USR1
	assert_success
	wait_for_output "$CONTAINER_OUT" '^SIGUSR1$'
}

@test "kill delivers the named signal: SIGHUP" {
	start_signal_waiter
	ferry kill "$ID" SIGHUP
	assert_success
	wait_for_output "$CONTAINER_OUT" '^SIGHUP$'
}

@test "kill delivers a numbered signal: 12 is SIGUSR2" {
	start_signal_waiter
	ferry kill "$ID" 12
	assert_success
	wait_for_output "$CONTAINER_OUT" '^SIGUSR2$'
}

@test "kill TERM stops a sleeping init" {
	run_detached
	ferry kill "$ID" TERM
	assert_success
	wait_for_state "$ID" stopped
}

@test "kill a created container stops it" {
	ferry create "$ID"
	assert_success
	local pid
	pid=$(container_pid "$ID")
	ferry kill "$ID" KILL
	assert_success
	wait_for_state "$ID" stopped
	retry 100 0.05 pid_gone "$pid"
}

@test "kill --all signals every process in the container" {
	payload_args spawn 3
	run_detached
	wait_for_output "$CONTAINER_OUT" '^spawned 3$'
	local pids
	pids=$(tagged_pids)
	[ "$(wc -w <<<"$pids")" -eq 4 ]
	ferry kill --all "$ID" KILL
	assert_success
	wait_for_state "$ID" stopped
	local p
	for p in $pids; do
		retry 100 0.05 pid_gone "$p"
	done
}

@test "kill -a is --all" {
	payload_args spawn 2
	run_detached
	wait_for_output "$CONTAINER_OUT" '^spawned 2$'
	ferry kill -a "$ID" TERM
	assert_success
	wait_for_state "$ID" stopped
	eventually '[ -z "$(tagged_pids)" ]'
}

@test "kill a stopped container fails" {
	payload_args exit 0
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry kill "$ID" KILL
	assert_failure
	assert_output_has "not running"
}

@test "kill with an unknown signal fails and leaves the container running" {
	run_detached
	ferry kill "$ID" NOSUCHSIG
	assert_failure
	assert_output_has "NOSUCHSIG"
	ferry kill "$ID" 99
	assert_failure
	assert_eq "$(container_status "$ID")" running status
}

@test "kill an unknown container fails with 'does not exist'" {
	ferry kill "$ID" KILL
	assert_failure
	assert_output_has "does not exist"
}

@test "kill without an id fails" {
	ferry kill
	assert_failure
}
