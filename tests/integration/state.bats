#!/usr/bin/env bats
# state: the OCI state document of one container, as JSON.

load helpers

@test "state of a created container has every OCI field" {
	ferry create "$ID"
	assert_success
	ferry state "$ID"
	assert_success
	jq -e . <<<"$output" >/dev/null
	assert_eq "$(jq -r .id <<<"$output")" "$ID" id
	assert_eq "$(jq -r .status <<<"$output")" created status
	assert_eq "$(jq -r .bundle <<<"$output")" "$BUNDLE" bundle
	assert_eq "$(jq -r .rootfs <<<"$output")" "$BUNDLE/rootfs" rootfs
	jq -e '.ociVersion | test("^1\\.[0-9]+\\.[0-9]+")' <<<"$output" >/dev/null
	jq -e '.pid | type == "number" and . > 0' <<<"$output" >/dev/null
	# runc reports root's containers with an empty owner.
	assert_eq "$(jq -r .owner <<<"$output")" "" owner
}

@test "state's created time is RFC 3339 UTC and recent" {
	ferry create "$ID"
	assert_success
	ferry state "$ID"
	assert_success
	local created
	created=$(jq -r .created <<<"$output")
	[[ "$created" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z$ ]] || {
		echo "created '$created' is not RFC 3339 UTC" >&2
		return 1
	}
	local then now
	then=$(date -d "$created" +%s)
	now=$(date +%s)
	[ $((now - then)) -ge 0 ] && [ $((now - then)) -lt 60 ]
}

@test "state of a running container reports its live pid" {
	run_detached
	ferry state "$ID"
	assert_success
	assert_eq "$(jq -r .status <<<"$output")" running status
	local pid
	pid=$(jq -r .pid <<<"$output")
	[ -d "/proc/$pid" ]
	assert_eq "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "/bin/payload sleep " cmdline
}

@test "state of an exited container is stopped" {
	payload_args exit 0
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry state "$ID"
	assert_success
	assert_eq "$(jq -r .status <<<"$output")" stopped status
	# The pid is 0 or left out once the process is gone.
	jq -e '(.pid // 0) == 0' <<<"$output" >/dev/null
}

@test "state of a killed container becomes stopped" {
	run_detached
	ferry kill "$ID" KILL
	assert_success
	wait_for_state "$ID" stopped
}

@test "state shows the config's annotations" {
	update_config '.annotations = {"org.example.key": "value", "other": "x y"}'
	ferry create "$ID"
	assert_success
	ferry state "$ID"
	assert_success
	assert_eq "$(jq -r '.annotations["org.example.key"]' <<<"$output")" value annotation
	assert_eq "$(jq -r '.annotations.other' <<<"$output")" "x y" annotation
}

@test "state of an unknown container fails with 'does not exist'" {
	ferry state "$ID"
	assert_status 1
	assert_output_has "does not exist"
}

@test "state without an id fails" {
	ferry state
	assert_failure
}

@test "state notices a container whose init was killed behind its back" {
	run_detached
	kill -9 "$(container_pid "$ID")"
	wait_for_state "$ID" stopped
}
