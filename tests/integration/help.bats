#!/usr/bin/env bats
# Global flags and usage: --version, --help, help for every verb, unknown
# verbs and flags, --root, --log, --log-format, --debug.

load helpers

# The verbs runc has; ferry has each of them too.
VERBS="checkpoint create delete events exec features kill list pause ps restore resume run spec start state update"

@test "--version prints the version and the runtime-spec version" {
	ferry --version
	assert_success
	assert_output_has '^[a-z]+ version [0-9]+\.[0-9]+'
	assert_output_has '^spec: 1\.[0-9]+\.[0-9]+'
}

@test "-v is --version" {
	ferry -v
	assert_success
	assert_output_has '^[a-z]+ version [0-9]+\.[0-9]+'
}

@test "--help lists every verb and exits 0" {
	ferry --help
	assert_success
	local verb
	for verb in $VERBS; do
		assert_output_has "^ +$verb( |,)"
	done
}

@test "-h is --help" {
	ferry -h
	assert_success
	assert_output_has "^ +create( |,)"
}

@test "no arguments prints the usage and exits 0" {
	ferry
	assert_success
	assert_output_has "^ +run( |,)"
}

@test "VERB --help prints that verb's usage and exits 0" {
	local verb
	for verb in $VERBS; do
		ferry "$verb" --help
		assert_success
		assert_output_has "$verb"
	done
}

@test "help VERB prints that verb's usage and exits 0" {
	local verb
	for verb in create exec kill; do
		ferry help "$verb"
		assert_success
		assert_output_has "$verb"
	done
}

@test "an unknown verb fails and names it" {
	ferry frobnicate
	assert_failure
	assert_output_has "frobnicate"
}

@test "an unknown global flag fails and names it" {
	ferry --frobnicate list
	assert_failure
	assert_output_has "frobnicate"
}

@test "an unknown flag of a verb fails and names it" {
	ferry list --frobnicate
	assert_failure
	assert_output_has "frobnicate"
	ferry state --frobnicate "$ID"
	assert_failure
	assert_output_has "frobnicate"
}

@test "a long flag works after one dash too, as runc takes it" {
	# containerd's shim passes restore "-no-subreaper" (checkpoint.bats)
	# an empty JSON list (runc prints null)
	ferry list -format json
	assert_success
	assert_output_has '^(\[\]|null)$'
	ferry list -format=json
	assert_success
	assert_output_has '^(\[\]|null)$'
	ferry list -format
	assert_failure
	assert_output_has "format"
}

@test "verbs that need an id fail without one" {
	local verb
	for verb in create delete events exec kill pause ps resume run start state update; do
		ferry "$verb"
		assert_failure
	done
}

@test "--root keeps state where it is told and creates the directory" {
	local other=$TEST_DIR/root/nested/state
	run_cmd "$FERRY" --root "$other" create --bundle "$BUNDLE" "$ID"
	assert_success
	[ -d "$other/$ID" ]
	run_cmd "$FERRY" --root "$other" state "$ID"
	assert_success
	assert_eq "$(jq -r .status <<<"$output")" created status
	# The test's own root does not see it.
	ferry state "$ID"
	assert_failure
	run_cmd "$FERRY" --root "$other" delete --force "$ID"
	assert_success
}

@test "--log writes errors to the file in text format" {
	ferry --log "$TEST_DIR/log" state "$ID"
	assert_failure
	run_cmd cat "$TEST_DIR/log"
	assert_output_has 'level=error'
	assert_output_has 'does not exist'
}

@test "--log-format json writes one JSON object per line" {
	ferry --log "$TEST_DIR/log" --log-format json state "$ID"
	assert_failure
	[ -s "$TEST_DIR/log" ]
	local line
	while IFS= read -r line; do
		jq -e '.level and .msg and .time' <<<"$line" >/dev/null || {
			echo "not a JSON log line: $line" >&2
			return 1
		}
	done <"$TEST_DIR/log"
	run_cmd jq -r 'select(.level == "error") | .msg' "$TEST_DIR/log"
	assert_output_has 'does not exist'
}

@test "--log-format with an unknown format fails" {
	ferry --log-format yaml list
	assert_failure
	assert_output_has yaml
}

@test "--debug logs debug messages while running a container" {
	payload_args exit 0
	ferry --debug run "$ID"
	assert_success
	assert_output_has 'level=debug'
}

@test "--debug --log-format json logs debug messages as JSON" {
	payload_args exit 0
	ferry --debug --log "$TEST_DIR/log" --log-format json run "$ID"
	assert_success
	run_cmd jq -r .level "$TEST_DIR/log"
	assert_success
	assert_output_has '^debug$'
}
