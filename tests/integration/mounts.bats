#!/usr/bin/env bats
# config.json mounts, maskedPaths and readonlyPaths.

load helpers

# add_mount JSON: append one entry to .mounts.
add_mount() {
	update_config ".mounts += [$1]"
}

# The mountinfo line for DEST inside the container, from `payload mounts`.
mount_line() {
	awk -v d="$1" '$5 == d' <<<"$output" | tail -n1
}

@test "bind mount: a host directory, writable both ways" {
	mkdir "$TEST_DIR/shared"
	echo from-host >"$TEST_DIR/shared/in"
	add_mount "{\"destination\": \"/shared\", \"type\": \"bind\", \"source\": \"$TEST_DIR/shared\", \"options\": [\"bind\"]}"
	set_args /bin/sh -c 'cat /shared/in && echo from-container >/shared/out'
	ferry run "$ID"
	assert_success
	assert_eq "$output" from-host "read in the container"
	assert_eq "$(cat "$TEST_DIR/shared/out")" from-container "written in the container"
}

@test "bind mount: the destination is created when missing" {
	mkdir "$TEST_DIR/shared"
	add_mount "{\"destination\": \"/new/deep/dir\", \"source\": \"$TEST_DIR/shared\", \"options\": [\"bind\"]}"
	payload_args write /new/deep/dir/f ok
	ferry run "$ID"
	assert_success
	assert_eq "$(cat "$TEST_DIR/shared/f")" ok "written through the new mount point"
}

@test "bind mount: ro makes it read-only" {
	mkdir "$TEST_DIR/shared"
	add_mount "{\"destination\": \"/shared\", \"type\": \"bind\", \"source\": \"$TEST_DIR/shared\", \"options\": [\"bind\", \"ro\"]}"
	payload_args write /shared/out no
	ferry run "$ID"
	assert_failure
	assert_output_has 'Read-only file system'
	[ ! -e "$TEST_DIR/shared/out" ]
}

@test "bind mount: a single file" {
	echo single-file >"$TEST_DIR/file"
	add_mount "{\"destination\": \"/etc/bound\", \"type\": \"bind\", \"source\": \"$TEST_DIR/file\", \"options\": [\"bind\", \"ro\"]}"
	payload_args cat /etc/bound
	ferry run "$ID"
	assert_success
	assert_eq "$output" single-file output
}

@test "bind mount: rbind brings submounts along, bind does not" {
	mkdir -p "$TEST_DIR/src/sub"
	mount -t tmpfs -o size=1m ferry-sub "$TEST_DIR/src/sub"
	echo in-submount >"$TEST_DIR/src/sub/f"
	add_mount "{\"destination\": \"/r\", \"source\": \"$TEST_DIR/src\", \"options\": [\"rbind\"]}"
	add_mount "{\"destination\": \"/b\", \"source\": \"$TEST_DIR/src\", \"options\": [\"bind\"]}"
	set_args /bin/sh -c 'cat /r/sub/f; ls /b/sub | wc -l'
	ferry run "$ID"
	assert_success
	assert_eq "${lines[0]}" in-submount "through rbind"
	assert_eq "${lines[1]}" 0 "entries under the plain bind"
}

@test "tmpfs mount with size, mode and flags" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "size=1m", "mode=700"]}'
	payload_args mounts
	ferry run "$ID"
	assert_success
	local line
	line=$(mount_line /scratch)
	[[ "$line" == *" - tmpfs "* ]]
	[[ "$line" == *size=1024k* ]]
	[[ "$line" == *mode=700* ]]
	local f
	for f in nosuid nodev noexec; do
		[[ "$(awk '{ print $6 }' <<<"$line")" == *$f* ]] || {
			echo "no $f in: $line" >&2
			return 1
		}
	done
}

@test "tmpfs mount: the size limit holds" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
	set_args /bin/sh -c 'dd if=/dev/zero of=/scratch/big bs=1024 count=2048'
	ferry run "$ID"
	assert_failure
	assert_output_has 'No space left on device'
}

@test "tmpfs mount: ro" {
	add_mount '{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["ro"]}'
	payload_args write /scratch/f x
	ferry run "$ID"
	assert_failure
	assert_output_has 'Read-only file system'
}

@test "default mounts: proc, sysfs (ro), mqueue, devpts, shm and cgroup" {
	payload_args mounts
	ferry run "$ID"
	assert_success
	[[ "$(mount_line /proc)" == *" - proc "* ]]
	[[ "$(mount_line /sys)" == *" - sysfs "* ]]
	[[ "$(awk '{ print $6 }' <<<"$(mount_line /sys)")" == ro,* ]]
	[[ "$(mount_line /dev/mqueue)" == *" - mqueue "* ]]
	[[ "$(mount_line /dev/pts)" == *" - devpts "* ]]
	[[ "$(mount_line /dev/shm)" == *" - tmpfs "* ]]
	[[ "$(mount_line /dev)" == *" - tmpfs "* ]]
	# cgroup v1: a tmpfs holding one mount per hierarchy; v2: cgroup2.
	local cg
	cg=$(mount_line /sys/fs/cgroup)
	[[ "$cg" == *" - tmpfs "* || "$cg" == *" - cgroup2 "* ]]
}

@test "proc: the container sees only its own processes" {
	set_args /bin/sh -c 'ls /proc | grep -c "^[0-9]"; cat /proc/1/cmdline | tr "\0" " "'
	ferry run "$ID"
	assert_success
	# sh and the ls|grep pipeline: a handful, not the host's.
	[ "${lines[0]}" -lt 6 ]
	assert_eq "${lines[1]}" "/bin/sh -c ls /proc | grep -c \"^[0-9]\"; cat /proc/1/cmdline | tr \"\\0\" \" \" " "pid 1"
}

@test "cgroup mount: the container's own cgroups are visible read-only" {
	requires cgroups_memory
	set_args /bin/sh -c 'ls /sys/fs/cgroup
		f=/sys/fs/cgroup/memory/cgroup.procs
		[ -e $f ] || f=/sys/fs/cgroup/cgroup.procs
		payload write $f 1 || true'
	ferry run "$ID"
	assert_success
	assert_output_has '^(memory|cgroup\.controllers)$'
	assert_output_has 'Read-only file system'
}

@test "mqueue and devpts are usable" {
	set_args /bin/sh -c 'ls -d /dev/mqueue /dev/pts/ptmx && payload stat /dev/pts/ptmx'
	ferry run "$ID"
	assert_success
	assert_output_has '^c [0-7]+ 0 0 5:2$'
}

@test "maskedPaths: the defaults hide /proc/keys and /sys/firmware" {
	set_args /bin/sh -c 'payload stat /proc/keys; payload cat /proc/keys | wc -c; payload ls /sys/firmware | wc -l'
	ferry run "$ID"
	assert_success
	assert_eq "${lines[0]}" "c 0666 0 0 1:3" "/proc/keys (as /dev/null)"
	assert_eq "${lines[1]}" 0 "bytes in /proc/keys"
	assert_eq "${lines[2]}" 0 "entries in /sys/firmware"
}

@test "maskedPaths: a file reads empty and a directory lists empty" {
	update_config '.linux.maskedPaths += ["/etc/passwd", "/home"]'
	set_args /bin/sh -c 'payload cat /etc/passwd | wc -c; payload ls /home | wc -l; payload cat /etc/group | wc -l'
	ferry run "$ID"
	assert_success
	assert_eq "${lines[0]}" 0 "bytes in masked /etc/passwd"
	assert_eq "${lines[1]}" 0 "entries in masked /home"
	assert_eq "${lines[2]}" 3 "lines in unmasked /etc/group"
}

@test "maskedPaths: a path that does not exist is ignored" {
	update_config '.linux.maskedPaths += ["/no/such/path"]'
	payload_args echo ok
	ferry run "$ID"
	assert_success
	assert_eq "$output" ok output
}

@test "readonlyPaths: the defaults make /proc/sys read-only" {
	payload_args write /proc/sys/kernel/hostname changed
	ferry run "$ID"
	assert_failure
	assert_output_has 'Read-only file system'
}

@test "readonlyPaths: an extra path becomes read-only" {
	update_config '.root.readonly = false | .linux.readonlyPaths += ["/tmp"]'
	set_args /bin/sh -c 'payload write /tmp/f x; payload write /root/f y && echo root-writable'
	ferry run "$ID"
	assert_success
	assert_output_has 'Read-only file system'
	assert_output_has '^root-writable$'
}

@test "mounts: a bind source that does not exist fails the create" {
	add_mount "{\"destination\": \"/shared\", \"source\": \"$TEST_DIR/missing\", \"options\": [\"bind\"]}"
	ferry create "$ID"
	assert_failure
	assert_output_has "$TEST_DIR/missing"
	ferry list -q
	assert_eq "$output" "" "containers"
	eventually '[ -z "$(tagged_pids)" ]'
}

@test "mounts: nothing leaks into the host's mount table" {
	mkdir "$TEST_DIR/shared"
	add_mount "{\"destination\": \"/shared\", \"source\": \"$TEST_DIR/shared\", \"options\": [\"rbind\"]}"
	local before
	before=$(wc -l </proc/self/mountinfo)
	run_detached
	assert_eq "$(wc -l </proc/self/mountinfo)" "$before" "host mounts while running"
	ferry delete --force "$ID"
	assert_success
	assert_eq "$(wc -l </proc/self/mountinfo)" "$before" "host mounts after delete"
}
