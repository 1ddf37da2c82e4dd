#!/usr/bin/env bats
# Error paths: a config.json or bundle the runtime must refuse, clearly and
# without leaving a container, a process or a cgroup behind.

load helpers

# The create failed: no container, no process, no cgroup at $CGROUP_PATH.
assert_nothing_left() {
	local listed
	listed=$(timeout 10 "$FERRY" --root "$ROOT" list -q 2>&1)
	assert_eq "$listed" "" "containers left"
	eventually '[ -z "$(tagged_pids)" ]'
	if [ -n "${CGROUP_PATH:-}" ] && have_controller pids; then
		[ ! -e "$(cgroup_dir pids "$CGROUP_PATH")" ] || {
			echo "cgroup $CGROUP_PATH left behind" >&2
			return 1
		}
	fi
}

@test "config.json that is not JSON" {
	set_cgroups_path
	echo '{"ociVersion": "1.0.2", "process": {' >"$BUNDLE/config.json"
	ferry create "$ID"
	assert_failure
	assert_nothing_left
}

@test "config.json that is not JSON: the error names the file" {
	skip_if_runc "runc prints the bare JSON decoder error ('unexpected EOF')"
	echo '{"ociVersion": "1.0.2", "process": {' >"$BUNDLE/config.json"
	ferry create "$ID"
	assert_failure
	assert_output_has 'config\.json'
}

@test "config.json that is empty" {
	: >"$BUNDLE/config.json"
	ferry create "$ID"
	assert_failure
	assert_nothing_left
}

@test "a field of the wrong type" {
	update_config '.process.user.uid = "root"'
	ferry create "$ID"
	assert_failure
	assert_output_has 'uid'
	assert_nothing_left
}

@test "a missing process binary fails create or start, naming it" {
	set_cgroups_path
	set_args /bin/ferry-no-such-binary
	ferry create "$ID"
	if [ "$status" -eq 0 ]; then
		ferry start "$ID"
		assert_failure
	fi
	assert_output_has 'ferry-no-such-binary'
	assert_output_has 'no such file|not found|No such file'
	ferry delete --force "$ID"
	assert_nothing_left
}

@test "a process binary that is not executable fails, naming it" {
	set_args /etc/passwd
	ferry run "$ID"
	assert_failure
	assert_output_has '/etc/passwd'
	assert_output_has 'permission denied|Permission denied'
}

@test "run of a missing binary fails with a clear message" {
	set_args ferry-no-such-binary
	ferry run "$ID"
	assert_failure
	assert_output_has 'ferry-no-such-binary'
	assert_nothing_left
}

@test "empty process.args" {
	update_config '.process.args = []'
	ferry create "$ID"
	assert_failure
	assert_output_has 'args'
	assert_nothing_left
}

@test "a relative process.cwd" {
	update_config '.process.cwd = "relative/dir"'
	ferry create "$ID"
	assert_failure
	assert_output_has '[Cc]wd'
	assert_nothing_left
}

@test "a rootfs that does not exist" {
	update_config '.root.path = "no-such-rootfs"'
	ferry create "$ID"
	assert_failure
	assert_output_has 'no-such-rootfs'
	assert_nothing_left
}

@test "an unknown rlimit type" {
	update_config '.process.rlimits += [{"type": "RLIMIT_FROBNICATE", "soft": 1, "hard": 1}]'
	ferry create "$ID"
	assert_failure
	assert_output_has 'RLIMIT_FROBNICATE'
	assert_nothing_left
}

@test "an unknown namespace type, reported by type" {
	update_config '.linux.namespaces += [{"type": "frobnicate"}]'
	ferry create "$ID"
	assert_failure
	assert_output_has 'frobnicate'
	assert_nothing_left
}

@test "an unknown namespace type, reported by JSON path" {
	skip_if_runc "runc's message names the namespace, not the JSON path"
	update_config '.linux.namespaces += [{"type": "frobnicate"}]'
	ferry create "$ID"
	assert_failure
	assert_output_has 'linux\.namespaces'
}

@test "a user namespace without mappings" {
	update_config '.linux.namespaces += [{"type": "user"}]'
	ferry create "$ID"
	assert_failure
	assert_nothing_left
}

@test "an unknown container id for every verb that takes one" {
	local verb
	for verb in start state kill pause resume ps events update; do
		case $verb in
		events) ferry events --stats "$ID" ;;
		update) ferry update --pids-limit 5 "$ID" ;;
		*) ferry "$verb" "$ID" ;;
		esac
		assert_failure
		assert_output_has 'does not exist'
	done
	ferry exec "$ID" /bin/payload pid
	assert_failure
	assert_output_has 'does not exist'
	ferry delete "$ID"
	assert_failure
	assert_output_has 'does not exist'
}

@test "wrong state transitions are refused" {
	# start twice
	ferry create "$ID"
	assert_success
	ferry start "$ID"
	assert_success
	ferry start "$ID"
	assert_failure
	# resume a running container
	ferry resume "$ID"
	assert_failure
	# delete a running container without --force
	ferry delete "$ID"
	assert_failure
	assert_eq "$(container_status "$ID")" running status
	# pause, kill or exec in a stopped one
	ferry kill "$ID" KILL
	assert_success
	wait_for_state "$ID" stopped
	ferry pause "$ID"
	assert_failure
	ferry kill "$ID" KILL
	assert_failure
	ferry exec "$ID" /bin/payload pid
	assert_failure
	ferry start "$ID"
	assert_failure
	assert_eq "$(container_status "$ID")" stopped status
}

@test "a duplicate id with a different bundle is refused" {
	ferry create "$ID"
	assert_success
	setup_bundle "$TEST_DIR/bundle2"
	ferry create "$ID"
	assert_failure
	ferry state "$ID"
	assert_eq "$(jq -r .bundle <<<"$output")" "$TEST_DIR/bundle" "bundle of the existing container"
}

@test "a failed create can be retried with the same id" {
	set_args /bin/ferry-no-such-binary
	ferry create "$ID"
	[ "$status" -ne 0 ] || ferry delete --force "$ID"
	payload_args sleep
	run_detached
}
