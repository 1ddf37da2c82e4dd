#!/usr/bin/env bats
# events: container statistics (once with --stats, or every --interval) and
# OOM notifications, one JSON object per line.

load helpers

@test "events --stats prints one stats object" {
	requires cgroups_memory cgroups_pids
	run_detached
	ferry events --stats "$ID"
	assert_success
	assert_eq "${#lines[@]}" 1 "lines"
	assert_eq "$(jq -r .type <<<"$output")" stats type
	assert_eq "$(jq -r .id <<<"$output")" "$ID" id
	jq -e '.data | type == "object"' <<<"$output" >/dev/null
}

@test "events --stats reports memory usage and the pids count" {
	requires cgroups_memory cgroups_pids
	payload_args spawn 2
	run_detached
	wait_for_output "$CONTAINER_OUT" '^spawned 2$'
	ferry events --stats "$ID"
	assert_success
	jq -e '.data.memory.usage.usage > 0' <<<"$output" >/dev/null
	assert_eq "$(jq -r .data.pids.current <<<"$output")" 3 "pids.current"
}

@test "events --stats reports the memory and pids limits" {
	requires cgroups_memory cgroups_pids
	update_config '.linux.resources.memory = {"limit": 33554432} | .linux.resources.pids = {"limit": 20}'
	run_detached
	ferry events --stats "$ID"
	assert_success
	assert_eq "$(jq -r .data.memory.usage.limit <<<"$output")" 33554432 "memory limit"
	assert_eq "$(jq -r .data.pids.limit <<<"$output")" 20 "pids limit"
}

@test "events --stats reports cpu usage" {
	requires cgroups_cpu
	set_args /bin/sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec /bin/payload sleep'
	run_detached
	ferry events --stats "$ID"
	assert_success
	jq -e '.data.cpu.usage.total > 0' <<<"$output" >/dev/null
}

@test "events without --stats streams stats every --interval" {
	requires cgroups_memory
	run_detached
	# Stop the stream after two seconds: the timeout's 124 is expected.
	FERRY_TIMEOUT=2 ferry events --interval 200ms "$ID"
	assert_status 124
	local n
	n=$(grep -c '"type":"stats"' <<<"$output" || true)
	[ "$n" -ge 2 ] || {
		echo "expected at least 2 stats lines in 2s at 200ms, got $n" >&2
		return 1
	}
	while IFS= read -r line; do
		jq -e ".type == \"stats\" and .id == \"$ID\"" <<<"$line" >/dev/null
	done <<<"$output"
}

@test "events reports an OOM kill in the container" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 33554432}'
	run_detached
	(timeout 10 "$FERRY" --root "$ROOT" events --interval 10s "$ID" >"$TEST_DIR/events" 2>&1) &
	track_background $!
	# events may not be listening yet: run out of memory until it reports.
	local i
	for i in 1 2 3 4 5; do
		ferry exec "$ID" /bin/payload eat 64
		assert_status 137
		wait_for_output "$TEST_DIR/events" '"oom"' 1 2>/dev/null && break
	done
	wait_for_output "$TEST_DIR/events" '"type": *"oom"'
	run_cmd grep '"oom"' "$TEST_DIR/events"
	assert_eq "$(head -n1 <<<"$output" | jq -r .id)" "$ID" id
}

@test "events --stats of a stopped container fails" {
	payload_args exit 0
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry events --stats "$ID"
	assert_failure
}

@test "events of an unknown container fails with 'does not exist'" {
	ferry events --stats "$ID"
	assert_failure
	assert_output_has "does not exist"
}

# cgroup.tasks.events (kernel patch 1) is in every non-root cgroup2 cgroup,
# or in none.
kernel_has_tasks_events() {
	local mnt
	mnt=$(findmnt -rn -t cgroup2 -o TARGET | head -n1)
	[ -n "$mnt" ] && compgen -G "$mnt/*/cgroup.tasks.events" >/dev/null
}

@test "events reports forks and exits as tasks records only with kernel patch 1" {
	run_detached
	(timeout 4 "$FERRY" --root "$ROOT" events --interval 10s "$ID" >"$TEST_DIR/events" 2>&1) &
	track_background $!
	sleep 1
	ferry exec "$ID" /bin/payload exit 0
	assert_success
	if kernel_has_tasks_events; then
		# The exec'd process moved in (not counted) and exited.
		wait_for_output "$TEST_DIR/events" '"type": *"tasks"'
		sleep 1
		run_cmd grep '"tasks"' "$TEST_DIR/events"
		jq -e ".id == \"$ID\" and .data.exit >= 1" <<<"$(tail -n1 <<<"$output")" >/dev/null
	else
		sleep 1
		run_cmd grep -c '"tasks"' "$TEST_DIR/events"
		assert_eq "$output" 0 "tasks records without the patch"
	fi
}
