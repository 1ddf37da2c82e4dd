#!/usr/bin/env bats
# list: every container under --root, as a table, ids or JSON.

load helpers

header_re='^ID +PID +STATUS +BUNDLE +CREATED +OWNER$'

@test "list with no containers prints only the header" {
	ferry list
	assert_success
	assert_eq "${#lines[@]}" 1 "lines"
	assert_output_has "$header_re"
}

@test "list in a root that does not exist yet prints the header" {
	rmdir "$ROOT"
	ferry list
	assert_success
	assert_output_has "$header_re"
}

@test "list shows each container's id, pid, status, bundle, created and owner" {
	ferry create "$ID-a"
	assert_success
	run_detached "$ID-b"
	ferry list
	assert_success
	assert_output_has "$header_re"
	assert_eq "${#lines[@]}" 3 "lines"
	local pid_a pid_b
	pid_a=$(container_pid "$ID-a")
	pid_b=$(container_pid "$ID-b")
	assert_output_has "^$ID-a +$pid_a +created +$BUNDLE +[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+Z +root$"
	assert_output_has "^$ID-b +$pid_b +running +$BUNDLE +[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+Z +root$"
}

@test "list shows a stopped container with pid 0" {
	payload_args exit 0
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry list
	assert_success
	assert_output_has "^$ID +0 +stopped +"
}

@test "list's columns line up under the header" {
	run_detached "$ID"
	ferry list
	assert_success
	local col
	for col in PID STATUS BUNDLE CREATED OWNER; do
		local hpos rpos field
		hpos=$(awk -v c="$col" 'NR == 1 { print index($0, c) }' <<<"$output")
		case $col in
		PID) field=$(container_pid "$ID") ;;
		STATUS) field=running ;;
		BUNDLE) field=$BUNDLE ;;
		CREATED) field=$(jq -r .created <<<"$("$FERRY" --root "$ROOT" state "$ID")") ;;
		OWNER) field=root ;;
		esac
		rpos=$(awk -v f=" $field" 'NR == 2 { print index($0, f) + 1 }' <<<"$output")
		assert_eq "$rpos" "$hpos" "column $col"
	done
}

@test "list -q prints only the ids" {
	ferry create "$ID-a"
	assert_success
	ferry create "$ID-b"
	assert_success
	ferry list -q
	assert_success
	assert_eq "$(sort <<<"$output" | tr '\n' ' ')" "$ID-a $ID-b " ids
}

@test "list --quiet is -q" {
	ferry create "$ID"
	assert_success
	ferry list --quiet
	assert_success
	assert_eq "$output" "$ID" ids
}

@test "list --format json prints an array of states" {
	ferry create "$ID-a"
	assert_success
	run_detached "$ID-b"
	ferry list --format json
	assert_success
	jq -e 'type == "array" and length == 2' <<<"$output" >/dev/null
	local a
	a=$(jq -c ".[] | select(.id == \"$ID-a\")" <<<"$output")
	assert_eq "$(jq -r .status <<<"$a")" created status
	assert_eq "$(jq -r .pid <<<"$a")" "$(container_pid "$ID-a")" pid
	assert_eq "$(jq -r .bundle <<<"$a")" "$BUNDLE" bundle
	assert_eq "$(jq -r .rootfs <<<"$a")" "$BUNDLE/rootfs" rootfs
	assert_eq "$(jq -r .owner <<<"$a")" root owner
	jq -e '.ociVersion and .created' <<<"$a" >/dev/null
	assert_eq "$(jq -r ".[] | select(.id == \"$ID-b\") | .status" <<<"$output")" running status
}

@test "list -f json with no containers is an empty list" {
	ferry list -f json
	assert_success
	# runc prints null, a JSON empty list is as good.
	jq -e '. == null or . == []' <<<"$output" >/dev/null
}

@test "list --format with an unknown format fails" {
	ferry list --format xml
	assert_failure
	assert_output_has "xml|format"
}

@test "list sees only the containers of its --root" {
	ferry create "$ID"
	assert_success
	mkdir "$TEST_DIR/other-root"
	run_cmd "$FERRY" --root "$TEST_DIR/other-root" list -q
	assert_success
	assert_eq "$output" "" "containers in the other root"
}
