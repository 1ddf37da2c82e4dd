#!/usr/bin/env bats
# hooks: prestart, createRuntime, createContainer, startContainer, poststart
# and poststop; their order, the state they read on stdin, and what a
# failing hook does.

load helpers

setup() {
	setup_test
	setup_bundle
	MARKS=$TEST_DIR/marks
	mkdir "$MARKS"
	chmod 0777 "$MARKS"
	# A host-side hook: saves its stdin as NAME.json, appends NAME to order,
	# then exits with $HOOK_EXIT (0 unless the hook's env says otherwise).
	HOOK=$TEST_DIR/hook.sh
	cat >"$HOOK" <<-EOF
		#!/bin/sh
		cat >"$MARKS/\$1.json"
		echo "\$1" >>"$MARKS/order"
		env >"$MARKS/\$1.env"
		echo "\$@" >"$MARKS/\$1.args"
		exit \${HOOK_EXIT:-0}
	EOF
	chmod 0755 "$HOOK"
	# startContainer runs inside the container: the same hook in the rootfs,
	# writing through a bind mount of the marks directory.
	cat >"$BUNDLE/rootfs/hook.sh" <<-'EOF'
		#!/bin/sh
		cat >"/marks/$1.json"
		echo "$1" >>/marks/order
		exit ${HOOK_EXIT:-0}
	EOF
	chmod 0755 "$BUNDLE/rootfs/hook.sh"
	update_config ".mounts += [{\"destination\": \"/marks\", \"source\": \"$MARKS\", \"options\": [\"bind\"]}]"
}

# add_hook KIND [EXTRA-JSON]: a hook of KIND that records itself.
add_hook() {
	local kind=$1 extra=${2:-{\}} path=$HOOK
	[ "$kind" = startContainer ] && path=/hook.sh
	update_config ".hooks.$kind += [{\"path\": \"$path\", \"args\": [\"hook.sh\", \"$kind\"]} + $extra]"
}

all_hooks() {
	local k
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		add_hook "$k"
	done
}

order() {
	tr '\n' ' ' <"$MARKS/order" 2>/dev/null | sed 's/ $//'
}

@test "hooks run in the spec's order across create, start and delete" {
	skip_if_runc "runc 1.1 runs poststart hooks during create, before the user process starts (against the runtime spec)"
	all_hooks
	ferry create "$ID"
	assert_success
	assert_eq "$(order)" "prestart createRuntime createContainer" "after create"
	ferry start "$ID"
	assert_success
	eventually '[ "$(order)" = "prestart createRuntime createContainer startContainer poststart" ]'
	ferry kill "$ID" KILL
	assert_success
	wait_for_state "$ID" stopped
	assert_eq "$(order)" "prestart createRuntime createContainer startContainer poststart" "before delete"
	ferry delete "$ID"
	assert_success
	assert_eq "$(order)" "prestart createRuntime createContainer startContainer poststart poststop" "after delete"
}

@test "create runs prestart, createRuntime and createContainer in that order" {
	local k
	for k in prestart createRuntime createContainer startContainer poststop; do
		add_hook "$k"
	done
	ferry create "$ID"
	assert_success
	assert_eq "$(order)" "prestart createRuntime createContainer" "after create"
	ferry start "$ID"
	assert_success
	eventually '[ "$(order)" = "prestart createRuntime createContainer startContainer" ]'
	ferry delete --force "$ID"
	assert_success
	assert_eq "$(order)" "prestart createRuntime createContainer startContainer poststop" "after delete"
}

@test "poststart runs after start, once the process is running" {
	skip_if_runc "runc 1.1 runs poststart hooks during create, before the user process starts (against the runtime spec)"
	add_hook poststart
	ferry create "$ID"
	assert_success
	[ ! -e "$MARKS/order" ]
	ferry start "$ID"
	assert_success
	eventually '[ "$(order)" = poststart ]'
	assert_eq "$(jq -r .status "$MARKS/poststart.json")" running "poststart: status"
}

@test "run fires every hook, poststop once the process exits" {
	local k
	for k in prestart createRuntime createContainer startContainer poststop; do
		add_hook "$k"
	done
	payload_args exit 0
	ferry run "$ID"
	assert_success
	assert_eq "$(order)" "prestart createRuntime createContainer startContainer poststop" order
}

@test "hooks read the container's state as JSON on stdin" {
	all_hooks
	ferry create "$ID"
	assert_success
	local pid
	pid=$(container_pid "$ID")
	ferry start "$ID"
	assert_success
	eventually '[ -s "$MARKS/poststart.json" ] && [ -s "$MARKS/startContainer.json" ]'
	ferry delete --force "$ID"
	assert_success
	local k
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		[ -s "$MARKS/$k.json" ] || {
			echo "$k got no state" >&2
			return 1
		}
		assert_eq "$(jq -r .id "$MARKS/$k.json")" "$ID" "$k: id"
		assert_eq "$(jq -r .bundle "$MARKS/$k.json")" "$BUNDLE" "$k: bundle"
		jq -e '.ociVersion' "$MARKS/$k.json" >/dev/null
	done
	# Hooks in the runtime's namespaces see the host pid.
	for k in prestart createRuntime poststart; do
		assert_eq "$(jq -r .pid "$MARKS/$k.json")" "$pid" "$k: pid"
	done
	assert_eq "$(jq -r .status "$MARKS/poststop.json")" stopped "poststop: status"
}

@test "hooks get their args and only their env" {
	update_config ".hooks.prestart = [{\"path\": \"$HOOK\", \"args\": [\"argv0\", \"prestart\", \"two words\", \"x\"], \"env\": [\"FOO=bar\", \"PATH=/usr/bin:/bin\"]}]"
	FERRY_HOST_ONLY=leak ferry create "$ID"
	assert_success
	assert_eq "$(cat "$MARKS/prestart.args")" "prestart two words x" args
	grep -qx 'FOO=bar' "$MARKS/prestart.env"
	! grep -q FERRY_HOST_ONLY "$MARKS/prestart.env"
}

@test "a failing prestart hook fails create and leaves nothing behind" {
	set_cgroups_path
	add_hook prestart '{"env": ["HOOK_EXIT=1"]}'
	ferry create "$ID"
	assert_failure
	assert_eq "$(order)" prestart order
	ferry list -q
	assert_eq "$output" "" containers
	ferry state "$ID"
	assert_failure
	eventually '[ -z "$(tagged_pids)" ]'
	if have_controller pids; then
		[ ! -e "$(cgroup_dir pids "$CGROUP_PATH")" ]
	fi
}

@test "a failing createRuntime hook fails create and leaves nothing behind" {
	set_cgroups_path
	add_hook createRuntime '{"env": ["HOOK_EXIT=1"]}'
	add_hook createContainer
	ferry create "$ID"
	assert_failure
	assert_eq "$(order)" createRuntime "hooks run"
	ferry list -q
	assert_eq "$output" "" containers
	eventually '[ -z "$(tagged_pids)" ]'
	if have_controller memory; then
		[ ! -e "$(cgroup_dir memory "$CGROUP_PATH")" ]
	fi
}

@test "a failing createContainer hook fails create" {
	add_hook createContainer '{"env": ["HOOK_EXIT=1"]}'
	ferry create "$ID"
	assert_failure
	ferry list -q
	assert_eq "$output" "" containers
	eventually '[ -z "$(tagged_pids)" ]'
}

@test "a failing startContainer hook stops the container before its process runs" {
	add_hook startContainer '{"env": ["HOOK_EXIT=1"]}'
	payload_args write /marks/process-ran yes
	ferry create "$ID"
	assert_success
	# The hook runs in the container, so start may return before it fails
	# (runc does); either way the container must end up stopped.
	ferry start "$ID"
	eventually '[ "$(container_status "$ID")" != running ]'
	eventually '[ -z "$(tagged_pids)" ]'
	[ -e "$MARKS/startContainer.json" ]
	[ ! -e "$MARKS/process-ran" ]
}

@test "a hook that outlives its timeout fails create" {
	cat >"$TEST_DIR/slow.sh" <<-'EOF'
		#!/bin/sh
		exec sleep 10
	EOF
	chmod 0755 "$TEST_DIR/slow.sh"
	update_config ".hooks.prestart = [{\"path\": \"$TEST_DIR/slow.sh\", \"timeout\": 1}]"
	local t0=$SECONDS
	ferry create "$ID"
	assert_failure
	[ $((SECONDS - t0)) -lt 8 ] || {
		echo "create took $((SECONDS - t0))s with a 1s hook timeout" >&2
		return 1
	}
	ferry list -q
	assert_eq "$output" "" containers
}

@test "a failing poststop hook does not stop delete" {
	add_hook poststop '{"env": ["HOOK_EXIT=1"]}'
	ferry create "$ID"
	assert_success
	ferry delete --force "$ID"
	assert_success
	assert_eq "$(order)" poststop order
	ferry list -q
	assert_eq "$output" "" containers
}

@test "a hook that does not exist fails create" {
	update_config ".hooks.createRuntime = [{\"path\": \"$TEST_DIR/no-such-hook\"}]"
	ferry create "$ID"
	assert_failure
	ferry list -q
	assert_eq "$output" "" containers
	eventually '[ -z "$(tagged_pids)" ]'
}
