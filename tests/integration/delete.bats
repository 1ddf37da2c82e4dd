#!/usr/bin/env bats
# delete: remove a container's state and resources.

load helpers

@test "delete a stopped container removes it" {
	payload_args exit 0
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry delete "$ID"
	assert_success
	ferry state "$ID"
	assert_failure
	assert_output_has "does not exist"
	ferry list -q
	assert_eq "$output" "" "containers"
}

@test "delete a running container without --force fails and keeps it" {
	run_detached
	ferry delete "$ID"
	assert_failure
	assert_output_has "running|not stopped"
	assert_eq "$(container_status "$ID")" running status
}

@test "delete --force kills a running container and removes it" {
	run_detached
	local pid
	pid=$(container_pid "$ID")
	ferry delete --force "$ID"
	assert_success
	retry 100 0.05 pid_gone "$pid"
	ferry state "$ID"
	assert_failure
}

@test "delete -f is --force" {
	run_detached
	ferry delete -f "$ID"
	assert_success
	ferry list -q
	assert_eq "$output" "" "containers"
}

@test "delete --force kills every process, not just init" {
	payload_args spawn 3
	run_detached
	wait_for_output "$CONTAINER_OUT" '^spawned 3$'
	local pids
	pids=$(tagged_pids)
	[ "$(wc -w <<<"$pids")" -eq 4 ]
	ferry delete --force "$ID"
	assert_success
	local p
	for p in $pids; do
		retry 100 0.05 pid_gone "$p"
	done
}

@test "delete a created container that never started" {
	ferry create "$ID"
	assert_success
	local pid
	pid=$(container_pid "$ID")
	ferry delete "$ID"
	assert_success
	retry 100 0.05 pid_gone "$pid"
	ferry list -q
	assert_eq "$output" "" "containers"
}

@test "delete an unknown container fails with 'does not exist'" {
	ferry delete "$ID"
	assert_status 1
	assert_output_has "does not exist"
}

@test "delete --force an unknown container succeeds" {
	ferry delete --force "$ID"
	assert_success
}

@test "delete removes the container's cgroups" {
	requires cgroups_pids cgroups_memory
	set_cgroups_path
	run_detached
	[ -d "$(cgroup_file pids "")" ]
	[ -d "$(cgroup_file memory "")" ]
	ferry delete --force "$ID"
	assert_success
	[ ! -e "$(cgroup_file pids "")" ]
	[ ! -e "$(cgroup_file memory "")" ]
}

@test "delete removes the container's directory under --root" {
	ferry create "$ID"
	assert_success
	[ -d "$ROOT/$ID" ]
	ferry delete "$ID"
	assert_success
	[ ! -e "$ROOT/$ID" ]
}

@test "delete --force a paused container" {
	requires cgroups_freezer
	run_detached
	ferry pause "$ID"
	assert_success
	local pid
	pid=$(container_pid "$ID")
	ferry delete --force "$ID"
	assert_success
	retry 100 0.05 pid_gone "$pid"
}

@test "delete without an id fails" {
	ferry delete
	assert_failure
}

@test "an id can be reused after delete" {
	run_detached
	ferry delete --force "$ID"
	assert_success
	run_detached
}
