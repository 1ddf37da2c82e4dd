#!/usr/bin/env bats
# exec: run another process in a running container.

load helpers

@test "exec runs in the container's namespaces" {
	run_detached
	local pid
	pid=$(container_pid "$ID")
	ferry exec "$ID" /bin/payload ns
	assert_success
	local ns
	for ns in pid mnt net ipc uts; do
		local want
		want=$(readlink "/proc/$pid/ns/$ns" | tr -dc 0-9)
		assert_output_has "^$ns $want$"
	done
}

@test "exec sees the container's root filesystem" {
	run_detached
	ferry exec "$ID" /bin/payload cat /etc/passwd
	assert_success
	assert_output_has '^test:x:1000:1000:'
}

@test "exec returns the process's exit status" {
	run_detached
	ferry exec "$ID" /bin/payload exit 3
	assert_status 3
	ferry exec "$ID" /bin/payload exit 0
	assert_success
}

@test "exec returns 128+N when the process is killed by signal N" {
	run_detached
	ferry exec "$ID" /bin/sh -c 'kill -9 $$'
	assert_status 137
}

@test "exec passes stdin and prints stdout" {
	run_detached
	printf 'to the exec\n' >"$TEST_DIR/in"
	ferry exec "$ID" /bin/payload stdin <"$TEST_DIR/in"
	assert_success
	assert_eq "$output" "to the exec" output
}

@test "exec inherits the config's environment and adds --env" {
	run_detached
	ferry exec --env FOO=bar --env BAZ=qux "$ID" /bin/payload env
	assert_success
	assert_output_has '^FOO=bar$'
	assert_output_has '^BAZ=qux$'
	assert_output_has "^FERRY_TEST_TAG=$TAG$"
	assert_output_has '^PATH='
}

@test "exec --env overrides a variable from the config" {
	update_config '.process.env += ["FOO=from-config"]'
	run_detached
	ferry exec --env FOO=from-exec "$ID" /bin/payload env FOO
	assert_success
	assert_eq "$output" from-exec FOO
}

@test "exec --cwd sets the working directory" {
	run_detached
	ferry exec --cwd /tmp "$ID" /bin/payload cwd
	assert_success
	assert_eq "$output" /tmp cwd
}

@test "exec uses the config's cwd by default" {
	update_config '.process.cwd = "/etc"'
	run_detached
	ferry exec "$ID" /bin/payload cwd
	assert_success
	assert_eq "$output" /etc cwd
}

@test "exec --user UID:GID runs as that user" {
	run_detached
	ferry exec --user 1000:1000 "$ID" /bin/payload uid
	assert_success
	assert_eq "${lines[0]}" "1000 1000" "uid gid"
}

@test "exec -e and -g are --env and --additional-gids" {
	run_detached
	ferry exec -e FOO=short -u 1000:1000 -g 30 "$ID" /bin/sh -c '/bin/payload env FOO; /bin/payload uid'
	assert_success
	assert_eq "${lines[0]}" short FOO
	assert_eq "${lines[2]}" "groups 30" groups
}

@test "exec -u UID keeps gid 0" {
	run_detached
	ferry exec -u 1000 "$ID" /bin/payload uid
	assert_success
	assert_eq "${lines[0]}" "1000 0" "uid gid"
}

@test "exec --additional-gids sets supplementary groups" {
	run_detached
	ferry exec --user 1000:1000 --additional-gids 10 --additional-gids 20 "$ID" /bin/payload uid
	assert_success
	assert_eq "${lines[1]}" "groups 10 20" groups
}

@test "exec --cap adds a capability" {
	run_detached
	ferry exec "$ID" /bin/payload caps
	assert_success
	local before
	before=$(awk '$1 == "CapBnd" { print $2 }' <<<"$output")
	# CAP_SYS_ADMIN is bit 21 and not in the default set.
	! cap_in_mask "$before" 21
	ferry exec --cap CAP_SYS_ADMIN "$ID" /bin/payload caps
	assert_success
	local after
	after=$(awk '$1 == "CapBnd" { print $2 }' <<<"$output")
	cap_in_mask "$after" 21
}

@test "exec --no-new-privs sets no_new_privs" {
	update_config '.process.noNewPrivileges = false'
	run_detached
	ferry exec "$ID" /bin/payload nnp
	assert_success
	assert_eq "$output" 0 "no_new_privs"
	ferry exec --no-new-privs "$ID" /bin/payload nnp
	assert_success
	assert_eq "$output" 1 "no_new_privs"
}

@test "exec --process runs a process.json" {
	run_detached
	cat >"$TEST_DIR/process.json" <<-'EOF'
		{
			"terminal": false,
			"user": { "uid": 1000, "gid": 1000 },
			"args": [ "/bin/payload", "env", "FROM_PROCESS_JSON" ],
			"env": [ "FROM_PROCESS_JSON=yes", "PATH=/bin" ],
			"cwd": "/tmp"
		}
	EOF
	ferry exec --process "$TEST_DIR/process.json" "$ID"
	assert_success
	assert_eq "$output" yes output
}

@test "exec -p process.json sets user and cwd" {
	run_detached
	cat >"$TEST_DIR/process.json" <<-'EOF'
		{
			"user": { "uid": 1000, "gid": 1000 },
			"args": [ "/bin/sh", "-c", "/bin/payload uid; /bin/payload cwd" ],
			"cwd": "/tmp"
		}
	EOF
	ferry exec -p "$TEST_DIR/process.json" "$ID"
	assert_success
	assert_eq "${lines[0]}" "1000 1000" "uid gid"
	assert_eq "${lines[2]}" /tmp cwd
}

@test "exec -d returns while the process runs" {
	run_detached
	ferry exec -d --pid-file "$TEST_DIR/exec.pid" "$ID" /bin/payload sleep
	assert_success
	local pid
	pid=$(cat "$TEST_DIR/exec.pid")
	[ -d "/proc/$pid" ]
	assert_eq "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "/bin/payload sleep " cmdline
	ferry ps -f json "$ID"
	assert_success
	jq -e "index($pid) != null" <<<"$output" >/dev/null
}

@test "exec --pid-file writes the exec'd process's host pid" {
	run_detached
	ferry exec --pid-file "$TEST_DIR/exec.pid" "$ID" /bin/payload ppid
	assert_success
	[ -s "$TEST_DIR/exec.pid" ]
	[ "$(cat "$TEST_DIR/exec.pid")" != "$(container_pid "$ID")" ]
}

@test "exec --preserve-fds passes extra descriptors" {
	run_detached
	echo x >"$TEST_DIR/extra"
	ferry exec --preserve-fds 1 "$ID" /bin/payload fds 3<"$TEST_DIR/extra"
	assert_success
	assert_output_has '^3 -> .*/extra$'
}

@test "exec gives the process no descriptors beyond stdio" {
	run_detached
	ferry exec "$ID" /bin/payload fds
	assert_success
	assert_eq "${#lines[@]}" 3 "open fds"
}

@test "exec of a missing binary fails and the container keeps running" {
	run_detached
	ferry exec "$ID" /bin/no-such-binary
	assert_failure
	assert_output_has "no-such-binary"
	assert_eq "$(container_status "$ID")" running status
}

@test "exec in a stopped container fails" {
	payload_args exit 0
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry exec "$ID" /bin/payload pid
	assert_failure
	assert_output_has "stopped"
}

@test "exec in an unknown container fails with 'does not exist'" {
	ferry exec "$ID" /bin/payload pid
	assert_failure
	assert_output_has "does not exist"
}

@test "exec without a command fails" {
	run_detached
	ferry exec "$ID"
	assert_failure
}

@test "exec'd process gets the container's capabilities and no_new_privs" {
	run_detached
	ferry exec "$ID" /bin/payload caps
	assert_success
	# The default spec: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE.
	assert_output_has '^CapBnd 0000000020000420$'
	assert_output_has '^CapEff 0000000020000420$'
	ferry exec "$ID" /bin/payload nnp
	assert_eq "$output" 1 "no_new_privs"
}
