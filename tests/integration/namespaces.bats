#!/usr/bin/env bats
# linux.namespaces: new namespaces, joined ones, user namespaces with id
# mappings and time namespaces with clock offsets.

load helpers

host_ns() {
	readlink "/proc/self/ns/$1" | tr -dc 0-9
}

# The inode `payload ns` printed for namespace $1.
ctr_ns() {
	awk -v n="$1" '$1 == n { print $2 }' <<<"$output"
}

@test "the default namespaces are new: pid, mnt, net, ipc, uts" {
	payload_args ns
	ferry run "$ID"
	assert_success
	local ns
	for ns in pid mnt net ipc uts; do
		[ -n "$(ctr_ns $ns)" ]
		[ "$(ctr_ns $ns)" != "$(host_ns $ns)" ] || {
			echo "$ns namespace is the host's" >&2
			return 1
		}
	done
	# Not asked for: shared with the host.
	assert_eq "$(ctr_ns user)" "$(host_ns user)" "user namespace"
	assert_eq "$(ctr_ns cgroup)" "$(host_ns cgroup)" "cgroup namespace"
}

@test "a namespace left out of the config is the host's" {
	update_config '.linux.namespaces |= map(select(.type != "network" and .type != "ipc"))'
	payload_args ns
	ferry run "$ID"
	assert_success
	assert_eq "$(ctr_ns net)" "$(host_ns net)" "net namespace"
	assert_eq "$(ctr_ns ipc)" "$(host_ns ipc)" "ipc namespace"
	[ "$(ctr_ns uts)" != "$(host_ns uts)" ]
}

@test "a new network namespace has only a loopback device" {
	payload_args ls /sys/class/net
	ferry run "$ID"
	assert_success
	assert_eq "$output" lo "network devices"
}

@test "cgroup namespace: new, and the container's cgroup is its root" {
	update_config '.linux.namespaces += [{"type": "cgroup"}]'
	set_args /bin/sh -c 'payload ns; payload cat /proc/self/cgroup'
	ferry run "$ID"
	assert_success
	[ "$(ctr_ns cgroup)" != "$(host_ns cgroup)" ]
	# Every hierarchy's path is "/" seen from inside.
	local paths
	paths=$(grep -E '^[0-9]+:' <<<"$output" | cut -d: -f3 | sort -u)
	assert_eq "$paths" / "cgroup paths inside"
}

@test "network namespace: joining one by path" {
	requires netns
	local name=ferry-bats-$ID
	create_netns "$name"
	update_config ".linux.namespaces |= map(if .type == \"network\" then .path = \"/var/run/netns/$name\" else . end)"
	payload_args ns
	ferry run "$ID"
	assert_success
	assert_eq "$(ctr_ns net)" "$(stat -L -c %i "/var/run/netns/$name")" "net namespace"
}

@test "joining another container's namespaces through /proc/PID/ns" {
	run_detached "$ID-a"
	local pid
	pid=$(container_pid "$ID-a")
	update_config ".linux.namespaces |= map(
		if .type == \"network\" or .type == \"ipc\" or .type == \"uts\"
		then .path = \"/proc/$pid/ns/\" + ({\"network\": \"net\"}[.type] // .type)
		else . end)"
	payload_args ns
	ferry run "$ID-b"
	assert_success
	local ns
	for ns in net ipc uts; do
		assert_eq "$(ctr_ns $ns)" "$(readlink "/proc/$pid/ns/$ns" | tr -dc 0-9)" "$ns namespace"
	done
	# Still its own pid and mount namespaces.
	[ "$(ctr_ns pid)" != "$(readlink "/proc/$pid/ns/pid" | tr -dc 0-9)" ]
}

@test "joining a namespace path that does not exist fails the create" {
	update_config '.linux.namespaces |= map(if .type == "network" then .path = "/var/run/netns/ferry-no-such-ns" else . end)'
	ferry create "$ID"
	assert_failure
	assert_output_has 'ferry-no-such-ns'
	ferry list -q
	assert_eq "$output" "" containers
	eventually '[ -z "$(tagged_pids)" ]'
}

@test "uts namespace: the host's hostname is untouched" {
	local before
	before=$(hostname)
	update_config '.hostname = "ctr-only-name"'
	payload_args hostname
	ferry run "$ID"
	assert_success
	assert_eq "$output" ctr-only-name hostname
	assert_eq "$(hostname)" "$before" "host's hostname"
}

# A user namespace mapping container 0-65535 to host 100000-165535.
use_userns() {
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
}

@test "user namespace: root inside, the mappings as configured" {
	requires userns
	use_userns
	set_args /bin/sh -c 'payload uid; cat /proc/self/uid_map /proc/self/gid_map; payload ns'
	ferry run "$ID"
	assert_success
	assert_eq "${lines[0]}" "0 0" "uid gid inside"
	assert_eq "$(echo ${lines[2]})" "0 100000 65536" uid_map
	assert_eq "$(echo ${lines[3]})" "0 100000 65536" gid_map
	[ "$(ctr_ns user)" != "$(host_ns user)" ]
}

@test "user namespace: the process runs as the mapped host ids" {
	requires userns
	use_userns
	run_detached
	local pid
	pid=$(container_pid "$ID")
	assert_eq "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" 100000 "host uid"
	assert_eq "$(awk '/^Gid:/ { print $2 }' "/proc/$pid/status")" 100000 "host gid"
}

@test "user namespace: unmapped host root shows as the overflow id" {
	requires userns
	use_userns
	payload_args stat /bin/payload
	ferry run "$ID"
	assert_success
	assert_eq "$output" "- 0755 65534 65534 0:0" "/bin/payload"
}

@test "user namespace: a non-root user inside maps to its host id" {
	requires userns
	use_userns
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	run_detached
	local pid
	pid=$(container_pid "$ID")
	assert_eq "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" 101000 "host uid"
}

@test "time namespace: timeOffsets shift the monotonic and boot clocks" {
	requires timens
	skip_if_runc "runc 1.1 has no time namespace support"
	update_config '.linux.namespaces += [{"type": "time"}]
		| .linux.timeOffsets = {"monotonic": {"secs": 864000, "nanosecs": 0},
		                        "boottime": {"secs": 1728000, "nanosecs": 0}}'
	set_args /bin/sh -c 'payload clock; payload ns'
	ferry run "$ID"
	assert_success
	local host_mono host_boot
	host_mono=$(awk '{ print int($1) }' /proc/uptime)
	local mono boot
	mono=$(awk '$1 == "monotonic" { print $2 }' <<<"$output")
	boot=$(awk '$1 == "boottime" { print $2 }' <<<"$output")
	# Ten and twenty days ahead of the host, give or take a few seconds.
	[ "$mono" -ge $((host_mono + 864000 - 600)) ] && [ "$mono" -le $((host_mono + 864000 + 600)) ] || {
		echo "monotonic $mono is not host uptime $host_mono + 864000" >&2
		return 1
	}
	[ "$boot" -ge $((host_mono + 1728000 - 600)) ] || {
		echo "boottime $boot is not host uptime $host_mono + 1728000" >&2
		return 1
	}
	[ "$(ctr_ns time)" != "$(host_ns time)" ]
}

@test "time namespace: without offsets the clocks match the host's" {
	requires timens
	skip_if_runc "runc 1.1 has no time namespace support"
	update_config '.linux.namespaces += [{"type": "time"}]'
	payload_args clock
	ferry run "$ID"
	assert_success
	local host_mono mono
	host_mono=$(awk '{ print int($1) }' /proc/uptime)
	mono=$(awk '$1 == "monotonic" { print $2 }' <<<"$output")
	[ $((mono - host_mono)) -le 5 ] && [ $((host_mono - mono)) -le 5 ]
}
