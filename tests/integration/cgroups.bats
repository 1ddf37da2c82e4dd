#!/usr/bin/env bats
# linux.cgroupsPath and linux.resources applied at create.

load helpers

# The cgroup path of pid $1 in the v1 hierarchy $2 (or "" for cgroup v2).
cgroup_of() {
	local pid=$1 ctl=$2
	if is_cgroup_v2 || [ -z "$ctl" ]; then
		awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup"
	else
		awk -F: -v c="$ctl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup"
	fi
}

@test "the default cgroup path ends with the container id" {
	requires cgroups_memory
	run_detached
	local pid
	pid=$(container_pid "$ID")
	local ctl
	for ctl in memory pids; do
		is_cgroup_v2 && ctl=
		[[ "$(cgroup_of "$pid" "$ctl")" == */"$ID" ]] || {
			echo "$ctl cgroup '$(cgroup_of "$pid" "$ctl")' does not end with /$ID" >&2
			return 1
		}
	done
}

@test "an absolute cgroupsPath is used in every hierarchy" {
	requires cgroups_memory cgroups_pids
	set_cgroups_path
	run_detached
	local pid ctl
	pid=$(container_pid "$ID")
	if is_cgroup_v2; then
		assert_eq "$(cgroup_of "$pid" "")" "$CGROUP_PATH" "cgroup"
	else
		for ctl in memory pids cpu devices freezer; do
			have_controller "$ctl" || continue
			assert_eq "$(cgroup_of "$pid" "$ctl")" "$CGROUP_PATH" "$ctl cgroup"
			[ -d "$(cgroup_dir "$ctl" "$CGROUP_PATH")" ]
		done
	fi
}

@test "a relative cgroupsPath is below the runtime's own cgroup" {
	requires cgroups_memory
	update_config ".linux.cgroupsPath = \"ferry-bats-rel-$ID\""
	run_detached
	local pid mine ctl=memory
	is_cgroup_v2 && ctl=
	pid=$(container_pid "$ID")
	mine=$(cgroup_of $$ "$ctl")
	assert_eq "$(cgroup_of "$pid" "$ctl")" "${mine%/}/ferry-bats-rel-$ID" "memory cgroup"
}

@test "processes started with exec join the container's cgroup" {
	requires cgroups_pids
	set_cgroups_path
	run_detached
	ferry exec -d --pid-file "$TEST_DIR/exec.pid" "$ID" /bin/payload sleep
	assert_success
	local ctl=pids
	is_cgroup_v2 && ctl=
	assert_eq "$(cgroup_of "$(cat "$TEST_DIR/exec.pid")" "$ctl")" "$CGROUP_PATH" "exec'd process's cgroup"
}

@test "memory.limit is applied" {
	requires cgroups_memory
	set_cgroups_path
	update_config '.linux.resources.memory = {"limit": 67108864}'
	run_detached
	if is_cgroup_v2; then
		assert_eq "$(cat "$(cgroup_file memory memory.max)")" 67108864 memory.max
	else
		assert_eq "$(cat "$(cgroup_file memory memory.limit_in_bytes)")" 67108864 memory.limit_in_bytes
	fi
}

@test "memory.limit: a process that goes over it is OOM-killed" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 33554432}'
	payload_args eat 64
	ferry run "$ID"
	assert_status 137
}

@test "memory.limit: a process under it lives" {
	requires cgroups_memory
	update_config '.linux.resources.memory = {"limit": 67108864}'
	payload_args eat 16
	run_detached
	wait_for_output "$CONTAINER_OUT" '^ate 16 MB$'
	assert_eq "$(container_status "$ID")" running status
}

@test "memory.reservation is applied" {
	requires cgroups_memory
	set_cgroups_path
	update_config '.linux.resources.memory = {"reservation": 33554432}'
	run_detached
	if is_cgroup_v2; then
		assert_eq "$(cat "$(cgroup_file memory memory.low)")" 33554432 memory.low
	else
		assert_eq "$(cat "$(cgroup_file memory memory.soft_limit_in_bytes)")" 33554432 memory.soft_limit_in_bytes
	fi
}

@test "memory.swap is applied" {
	requires cgroups_memory cgroups_swap
	set_cgroups_path
	update_config '.linux.resources.memory = {"limit": 33554432, "swap": 67108864}'
	run_detached
	if is_cgroup_v2; then
		assert_eq "$(cat "$(cgroup_file memory memory.swap.max)")" 33554432 memory.swap.max
	else
		assert_eq "$(cat "$(cgroup_file memory memory.memsw.limit_in_bytes)")" 67108864 memsw
	fi
}

@test "cpu shares, quota and period are applied" {
	requires cgroups_cpu
	set_cgroups_path
	update_config '.linux.resources.cpu = {"shares": 256, "quota": 20000, "period": 100000}'
	run_detached
	if is_cgroup_v2; then
		assert_eq "$(cat "$(cgroup_file cpu cpu.max)")" "20000 100000" cpu.max
	else
		assert_eq "$(cat "$(cgroup_file cpu cpu.shares)")" 256 cpu.shares
		assert_eq "$(cat "$(cgroup_file cpu cpu.cfs_quota_us)")" 20000 cpu.cfs_quota_us
		assert_eq "$(cat "$(cgroup_file cpu cpu.cfs_period_us)")" 100000 cpu.cfs_period_us
	fi
}

@test "cpuset cpus and mems are applied and pin the process" {
	requires cgroups_cpuset
	set_cgroups_path
	update_config '.linux.resources.cpu = {"cpus": "0", "mems": "0"}'
	run_detached
	assert_eq "$(cat "$(cgroup_file cpuset cpuset.cpus)")" 0 cpuset.cpus
	assert_eq "$(cat "$(cgroup_file cpuset cpuset.mems)")" 0 cpuset.mems
	assert_eq "$(awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$(container_pid "$ID")/status")" 0 Cpus_allowed_list
}

@test "pids.limit is applied and stops forks beyond it" {
	requires cgroups_pids
	set_cgroups_path
	update_config '.linux.resources.pids = {"limit": 4}'
	payload_args spawn 5
	ferry run "$ID"
	assert_status 1
	assert_output_has '^spawned 3 of 5: Resource temporarily unavailable$'
	assert_eq "$(cat "$(cgroup_file pids pids.max)" 2>/dev/null || echo gone)" gone "cgroup after run"
}

@test "pids.limit: the file holds the limit" {
	requires cgroups_pids
	set_cgroups_path
	update_config '.linux.resources.pids = {"limit": 42}'
	run_detached
	assert_eq "$(cat "$(cgroup_file pids pids.max)")" 42 pids.max
}

@test "unified resources are written to cgroup v2 files" {
	requires cgroups_v2
	set_cgroups_path
	update_config '.linux.resources.unified = {"pids.max": "17", "memory.high": "50331648"}'
	run_detached
	assert_eq "$(cat "$(cgroup_file pids pids.max)")" 17 pids.max
	assert_eq "$(cat "$(cgroup_file memory memory.high)")" 50331648 memory.high
}

@test "hybrid layout: the container also gets a unified cgroup, frozen by pause" {
	requires cgroups_hybrid unified_freeze
	skip_if_runc "runc 1.1 pauses with the v1 freezer only on hybrid hosts"
	run_detached
	local pid rel u
	pid=$(container_pid "$ID")
	u=$(unified_mount)
	rel=$(cgroup_of "$pid" "")
	[ "$rel" != / ] && [ -d "$u$rel" ]
	ferry pause "$ID"
	assert_success
	grep -qx 'frozen 1' "$u$rel/cgroup.events"
	ferry resume "$ID"
	assert_success
	grep -qx 'frozen 0' "$u$rel/cgroup.events"
}
