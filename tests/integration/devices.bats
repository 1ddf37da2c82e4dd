#!/usr/bin/env bats
# /dev: the default devices every container gets, linux.devices, and the
# device cgroup rules in linux.resources.devices.

load helpers

@test "default devices exist with the right numbers and modes" {
	set_args /bin/sh -c 'for d in null zero full random urandom tty; do payload stat /dev/$d; done'
	ferry run "$ID"
	assert_success
	assert_eq "${lines[0]}" "c 0666 0 0 1:3" /dev/null
	assert_eq "${lines[1]}" "c 0666 0 0 1:5" /dev/zero
	assert_eq "${lines[2]}" "c 0666 0 0 1:7" /dev/full
	assert_eq "${lines[3]}" "c 0666 0 0 1:8" /dev/random
	assert_eq "${lines[4]}" "c 0666 0 0 1:9" /dev/urandom
	assert_eq "${lines[5]}" "c 0666 0 0 5:0" /dev/tty
}

@test "default devices work" {
	set_args /bin/sh -c '
		echo discarded >/dev/null && echo null-ok
		[ "$(head -c 8 /dev/zero | od -An -tx1 | tr -d " ")" = 0000000000000000 ] && echo zero-ok
		[ "$(head -c 16 /dev/urandom | wc -c)" = 16 ] && echo urandom-ok
		[ "$(head -c 16 /dev/random | wc -c)" = 16 ] && echo random-ok
		echo x 2>&1 >/dev/full | grep -q "No space left" && echo full-ok'
	ferry run "$ID"
	assert_success
	local d
	for d in null zero urandom random full; do
		assert_output_has "^$d-ok$"
	done
}

@test "/dev/ptmx, /dev/fd and the stdio links" {
	set_args /bin/sh -c 'for d in ptmx fd stdin stdout stderr; do payload stat /dev/$d | tail -n1; done'
	ferry run "$ID"
	assert_success
	assert_eq "${lines[0]}" "-> pts/ptmx" /dev/ptmx
	assert_eq "${lines[1]}" "-> /proc/self/fd" /dev/fd
	assert_eq "${lines[2]}" "-> /proc/self/fd/0" /dev/stdin
	assert_eq "${lines[3]}" "-> /proc/self/fd/1" /dev/stdout
	assert_eq "${lines[4]}" "-> /proc/self/fd/2" /dev/stderr
}

@test "/dev holds only what the runtime puts there" {
	payload_args ls /dev
	ferry run "$ID"
	assert_success
	# No host devices: no disks, no /dev/mem, no /dev/kmsg.
	assert_output_lacks '^(vda|sda|mem|kmsg|port)$'
	assert_output_has '^pts$'
	assert_output_has '^shm$'
	assert_output_has '^mqueue$'
}

@test "/dev/console exists only with a terminal" {
	payload_args stat /dev/console
	ferry run "$ID"
	assert_failure
	assert_output_has 'No such file or directory'
}

@test "linux.devices creates a device node with mode and owner" {
	update_config '.linux.devices = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 1000, "gid": 1000}]'
	payload_args stat /dev/mynull
	ferry run "$ID"
	assert_success
	assert_eq "$output" "c 0640 1000 1000 1:3" /dev/mynull
}

@test "linux.devices can make a node in a new subdirectory" {
	update_config '.linux.devices = [{"path": "/dev/sub/dir/zero", "type": "c", "major": 1, "minor": 5}]'
	set_args /bin/sh -c 'payload stat /dev/sub/dir/zero; head -c 4 /dev/sub/dir/zero | wc -c'
	ferry run "$ID"
	assert_success
	[[ "${lines[0]}" == "c "*" 1:5" ]]
	assert_eq "${lines[1]}" 4 "bytes read"
}

@test "device cgroup: a node without an allow rule cannot be opened" {
	requires cgroups_devices
	update_config '.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]'
	payload_args write /dev/kmsg "<6>ferry test"
	ferry run "$ID"
	assert_failure
	assert_output_has 'Operation not permitted'
}

@test "device cgroup: an allow rule lets the node be opened" {
	requires cgroups_devices
	update_config '.linux.devices = [{"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11}]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 1, "minor": 11, "access": "w"}]'
	payload_args write /dev/kmsg "<6>ferry device cgroup test"
	ferry run "$ID"
	assert_success
}
