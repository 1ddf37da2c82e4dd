#!/usr/bin/env bats
# update: change a running container's cgroup limits.

load helpers

setup() {
	setup_test
	setup_bundle
	set_cgroups_path
	update_config '.linux.resources = {"devices": .linux.resources.devices}'
}

# The v1 file name, or its cgroup v2 counterpart.
limit_of() {
	local ctl=$1 v1=$2 v2=$3
	if is_cgroup_v2; then
		cat "$(cgroup_file "$ctl" "$v2")"
	else
		cat "$(cgroup_file "$ctl" "$v1")"
	fi
}

@test "update --memory sets the memory limit" {
	requires cgroups_memory
	run_detached
	ferry update --memory 67108864 "$ID"
	assert_success
	assert_eq "$(limit_of memory memory.limit_in_bytes memory.max)" 67108864 "memory limit"
}

@test "update --memory takes a unit suffix" {
	requires cgroups_memory
	run_detached
	ferry update --memory 48M "$ID"
	assert_success
	assert_eq "$(limit_of memory memory.limit_in_bytes memory.max)" 50331648 "memory limit"
}

@test "update --pids-limit sets pids.max and the container feels it" {
	requires cgroups_pids
	run_detached
	ferry update --pids-limit 4 "$ID"
	assert_success
	assert_eq "$(limit_of pids pids.max pids.max)" 4 "pids.max"
	# init + the exec'd payload + 2 children = 4: the third child cannot fit.
	# (4 also leaves the runtime room to start the exec'd process.)
	ferry exec "$ID" /bin/payload spawn 3
	assert_status 1
	assert_output_has '^spawned 2 of 3: Resource temporarily unavailable$'
}

@test "update --cpu-share, --cpu-quota and --cpu-period set the cpu controller" {
	requires cgroups_cpu
	run_detached
	ferry update --cpu-share 512 --cpu-quota 50000 --cpu-period 100000 "$ID"
	assert_success
	if is_cgroup_v2; then
		assert_eq "$(cat "$(cgroup_file cpu cpu.max)")" "50000 100000" cpu.max
		# 512 shares convert to a weight below the default 100.
		[ "$(cat "$(cgroup_file cpu cpu.weight)")" -lt 100 ]
	else
		assert_eq "$(cat "$(cgroup_file cpu cpu.shares)")" 512 cpu.shares
		assert_eq "$(cat "$(cgroup_file cpu cpu.cfs_quota_us)")" 50000 cfs_quota
		assert_eq "$(cat "$(cgroup_file cpu cpu.cfs_period_us)")" 100000 cfs_period
	fi
}

@test "update --cpuset-cpus pins the container" {
	requires cgroups_cpuset
	run_detached
	ferry update --cpuset-cpus 0 "$ID"
	assert_success
	assert_eq "$(cat "$(cgroup_file cpuset cpuset.cpus)")" 0 cpuset.cpus
	local pid
	pid=$(container_pid "$ID")
	assert_eq "$(awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$pid/status")" 0 "Cpus_allowed_list"
}

@test "update -r reads resources from a JSON file" {
	requires cgroups_memory cgroups_pids
	run_detached
	echo '{"memory": {"limit": 50331648}, "pids": {"limit": 7}}' >"$TEST_DIR/res.json"
	ferry update -r "$TEST_DIR/res.json" "$ID"
	assert_success
	assert_eq "$(limit_of memory memory.limit_in_bytes memory.max)" 50331648 "memory limit"
	assert_eq "$(limit_of pids pids.max pids.max)" 7 "pids.max"
}

@test "update --resources - reads JSON from stdin" {
	requires cgroups_pids
	run_detached
	echo '{"pids": {"limit": 9}}' >"$TEST_DIR/res.json"
	ferry update --resources - "$ID" <"$TEST_DIR/res.json"
	assert_success
	assert_eq "$(limit_of pids pids.max pids.max)" 9 "pids.max"
}

@test "update keeps limits it was not asked to change" {
	requires cgroups_memory cgroups_pids
	run_detached
	ferry update --memory 67108864 "$ID"
	assert_success
	ferry update --pids-limit 11 "$ID"
	assert_success
	assert_eq "$(limit_of memory memory.limit_in_bytes memory.max)" 67108864 "memory limit"
	assert_eq "$(limit_of pids pids.max pids.max)" 11 "pids.max"
}

@test "update with bad JSON fails and changes nothing" {
	requires cgroups_pids
	run_detached
	ferry update --pids-limit 5 "$ID"
	assert_success
	echo '{"pids": {"limit": ' >"$TEST_DIR/res.json"
	ferry update -r "$TEST_DIR/res.json" "$ID"
	assert_failure
	assert_eq "$(limit_of pids pids.max pids.max)" 5 "pids.max"
}

@test "update a stopped container fails" {
	payload_args exit 0
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry update --pids-limit 5 "$ID"
	assert_failure
	assert_output_has "not running"
}

@test "update an unknown container fails with 'does not exist'" {
	ferry update --pids-limit 5 "$ID"
	assert_failure
	assert_output_has "does not exist"
}
