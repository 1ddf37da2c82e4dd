#!/usr/bin/env bats
# pause / resume: freeze and thaw every process of a container.

load helpers

setup() {
	setup_test
	requires cgroups_freezer
	setup_bundle
}

lines_of() {
	wc -l <"$1"
}

# The container's `payload tick` output grows while it runs.
assert_ticking() {
	local before
	before=$(lines_of "$CONTAINER_OUT")
	eventually '[ "$(lines_of "$CONTAINER_OUT")" -gt "$before" ]'
}

assert_not_ticking() {
	local before after
	before=$(lines_of "$CONTAINER_OUT")
	sleep 0.3
	after=$(lines_of "$CONTAINER_OUT")
	assert_eq "$after" "$before" "lines printed while paused"
}

@test "pause freezes the container and resume thaws it" {
	payload_args tick
	run_detached
	assert_ticking

	ferry pause "$ID"
	assert_success
	assert_eq "$(container_status "$ID")" paused status
	assert_not_ticking

	ferry resume "$ID"
	assert_success
	assert_eq "$(container_status "$ID")" running status
	assert_ticking
}

@test "pause freezes processes started with exec too" {
	run_detached
	ferry exec -d "$ID" /bin/sh -c 'exec /bin/payload tick >/dev/shm/ticks'
	assert_success
	# The host reads the exec'd ticker's file through the init's root.
	TICKS=/proc/$(container_pid "$ID")/root/dev/shm/ticks
	eventually '[ "$(exec_ticks)" -gt 0 ]'

	ferry pause "$ID"
	assert_success
	local before
	before=$(exec_ticks)
	sleep 0.3
	assert_eq "$(exec_ticks)" "$before" "lines printed while paused"

	ferry resume "$ID"
	assert_success
	eventually '[ "$(exec_ticks)" -gt "$before" ]'
}

exec_ticks() {
	wc -l <"$TICKS" 2>/dev/null || echo 0
}

@test "a paused container's state keeps its pid" {
	run_detached
	local pid
	pid=$(container_pid "$ID")
	ferry pause "$ID"
	assert_success
	ferry state "$ID"
	assert_success
	assert_eq "$(jq -r .status <<<"$output")" paused status
	assert_eq "$(jq -r .pid <<<"$output")" "$pid" pid
	ferry list
	assert_output_has "^$ID +$pid +paused +"
}

@test "pause a paused container fails" {
	run_detached
	ferry pause "$ID"
	assert_success
	ferry pause "$ID"
	assert_failure
	assert_eq "$(container_status "$ID")" paused status
}

@test "resume a running container fails" {
	run_detached
	ferry resume "$ID"
	assert_failure
	assert_output_has "not paused"
	assert_eq "$(container_status "$ID")" running status
}

@test "pause a stopped container fails" {
	payload_args exit 0
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry pause "$ID"
	assert_failure
	assert_output_has "not running"
	assert_eq "$(container_status "$ID")" stopped status
}

@test "pause and resume an unknown container fail with 'does not exist'" {
	ferry pause "$ID"
	assert_failure
	assert_output_has "does not exist"
	ferry resume "$ID"
	assert_failure
	assert_output_has "does not exist"
}

@test "kill and delete --force work on a paused container" {
	run_detached
	ferry pause "$ID"
	assert_success
	ferry kill "$ID" KILL
	assert_success
	ferry delete --force "$ID"
	assert_success
	eventually '[ -z "$(tagged_pids)" ]'
}
