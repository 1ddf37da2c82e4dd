#!/usr/bin/env bats
# ps: the processes running in a container, as a ps(1) table or JSON pids.

load helpers

@test "ps prints a ps -ef table with the container's processes" {
	run_detached
	local pid
	pid=$(container_pid "$ID")
	ferry ps "$ID"
	assert_success
	assert_output_has '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$'
	assert_eq "${#lines[@]}" 2 "lines"
	# The PID column (second) holds the init's host pid.
	assert_eq "$(awk 'NR == 2 { print $2 }' <<<"$output")" "$pid" "PID column"
	assert_output_has '/bin/payload sleep$'
}

@test "ps --format json prints the pids as a JSON array" {
	run_detached
	ferry ps --format json "$ID"
	assert_success
	jq -e 'type == "array"' <<<"$output" >/dev/null
	assert_eq "$(jq -c . <<<"$output")" "[$(container_pid "$ID")]" pids
}

@test "ps -f json lists every process of the container" {
	payload_args spawn 2
	run_detached
	wait_for_output "$CONTAINER_OUT" '^spawned 2$'
	ferry ps -f json "$ID"
	assert_success
	assert_eq "$(jq -c 'sort' <<<"$output")" "$(tagged_pids | sort -n | jq -s -c .)" pids
	assert_eq "$(jq length <<<"$output")" 3 "number of pids"
}

@test "ps includes processes started with exec" {
	run_detached
	ferry exec -d "$ID" /bin/payload sleep
	assert_success
	eventually '[ "$(tagged_pids | wc -l)" -eq 2 ]'
	ferry ps -f json "$ID"
	assert_success
	assert_eq "$(jq length <<<"$output")" 2 "number of pids"
}

@test "ps passes extra arguments to ps(1)" {
	run_detached
	ferry ps "$ID" -o pid,comm
	assert_success
	assert_output_has '^ *PID +COMMAND$'
	assert_output_has "^ *$(container_pid "$ID") +payload$"
	assert_eq "${#lines[@]}" 2 "lines"
}

@test "ps of a created container shows its init" {
	ferry create "$ID"
	assert_success
	ferry ps -f json "$ID"
	assert_success
	assert_eq "$(jq -c . <<<"$output")" "[$(container_pid "$ID")]" pids
}

@test "ps of a stopped container lists no processes" {
	payload_args exit 0
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry ps -f json "$ID"
	assert_success
	jq -e '. == null or . == []' <<<"$output" >/dev/null
}

@test "ps --format with an unknown format fails" {
	run_detached
	ferry ps --format yaml "$ID"
	assert_failure
}

@test "ps of an unknown container fails with 'does not exist'" {
	ferry ps "$ID"
	assert_failure
	assert_output_has "does not exist"
}
