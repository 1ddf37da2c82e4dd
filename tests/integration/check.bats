#!/usr/bin/env bats
# check: probe the kernel mechanisms checkpoint/restore uses, one line each,
# and the kernel patches of kernel-patches/ (do they apply to Debian's
# linux-source-6.12?). ferry-only: runc has no such verb.

load helpers

setup() {
	setup_test
	skip_if_runc "ferry's own verb"
}

check_json() {
	ferry check --format json "$@"
	CHECK_JSON=$output
}

cq() {
	jq -r "$1" <<<"$CHECK_JSON"
}

# The status of one check in the JSON document.
status_of() {
	cq ".checks[] | select(.name == \"$1\") | .status"
}

@test "check prints one line per check and a summary" {
	ferry check --list
	assert_success
	local names=("${lines[@]}")
	[ "${#names[@]}" -ge 14 ]
	ferry check
	assert_success
	assert_eq "${#lines[@]}" "$((${#names[@]} + 1))" "lines"
	local i
	for i in "${!names[@]}"; do
		[[ "${lines[$i]}" =~ ^${names[$i]}\ +(supported|missing|broken)\ +[^\ ] ]] || {
			echo "line $i: '${lines[$i]}'" >&2
			return 1
		}
	done
	[[ "${lines[-1]}" =~ ^ferry\ check:\ [0-9]+\ supported,\ [0-9]+\ missing,\ 0\ broken$ ]]
}

@test "check names every mechanism of the issue" {
	ferry check --list
	local want
	for want in cgroup-layout cgroup-freezer children-file clone3-set-tid pidfd-getfd \
		ptrace-seize ptrace-rseq pr-set-mm-map uffd-wp-async pagemap-scan tcp-repair \
		time-ns cgroup-tasks-events proc-sigactions; do
		assert_output_has "$want"
	done
}

@test "check --format json: statuses, details, fallbacks and counts" {
	check_json
	assert_success
	assert_eq "$(cq '[.checks[].status] - ["supported","missing","broken"] | length')" 0 "unknown statuses"
	assert_eq "$(cq '[.checks[] | select(.detail == "" or .detail == null)] | length')" 0 "empty details"
	# Whatever is not supported says what ferry does instead.
	assert_eq "$(cq '[.checks[] | select(.status != "supported" and .fallback == null)] | length')" 0 \
		"missing fallbacks"
	assert_eq "$(cq '.supported + .missing + .broken')" "$(cq '.checks | length')" counts
	assert_eq "$(cq .broken)" 0 broken
}

@test "check is fast: every probe under 50 ms" {
	check_json
	assert_success
	cq '.checks[] | "\(.name) \(.elapsed_us) us"' >&2
	assert_eq "$(cq '[.checks[] | select(.elapsed_us > 50000)] | length')" 0 "slow probes"
}

@test "check on this host: the mechanisms it documents" {
	requires root
	check_json
	assert_success
	# KERNEL-NOTES.md: CHECKPOINT_RESTORE, PROC_CHILDREN, USERFAULTFD, TIME_NS.
	[ -e /proc/thread-self/children ] && assert_eq "$(status_of children-file)" supported children-file
	[ -e /proc/self/ns/time ] && assert_eq "$(status_of time-ns)" supported time-ns
	assert_eq "$(status_of pidfd-getfd)" supported pidfd-getfd
	assert_eq "$(status_of ptrace-seize)" supported ptrace-seize
	assert_eq "$(status_of pagemap-scan)" supported pagemap-scan
}

@test "check reports the kernel patches missing on a stock kernel, with the fallback" {
	[ ! -e /proc/self/sigactions ] || skip "this kernel has ferry's patch 2"
	ferry check proc-sigactions cgroup-tasks-events
	assert_success
	assert_output_has "proc-sigactions      missing    no /proc/PID/sigactions"
	assert_output_has "instead: signal handlers are read by injecting rt_sigaction()"
	assert_output_has "cgroup-tasks-events  missing"
	assert_output_has "instead: ferry events has no tasks records"
}

@test "check with FERRY_FORCE_PPID_WALK=1 verifies the PPid fallback" {
	FERRY_FORCE_PPID_WALK=1 ferry check children-file
	assert_success
	assert_output_has "children-file  missing    not used: FERRY_FORCE_PPID_WALK=1; the PPid walk found the whole 2-process tree"
	assert_output_has "instead: process trees are built from the PPid of every /proc entry"
	FERRY_FORCE_PPID_WALK=0 ferry check children-file
	assert_output_lacks "not used"
}

@test "check NAME runs only that check; an unknown name fails" {
	ferry check pagemap-scan time-ns
	assert_success
	assert_eq "${#lines[@]}" 3 lines
	assert_output_has "pagemap-scan"
	assert_output_lacks "children-file"
	ferry check no-such-check
	assert_failure
	assert_output_has 'no check named "no-such-check"'
	ferry check --format yaml
	assert_failure
	assert_output_has "not text or json"
}

@test "check leaves no scratch cgroup or child behind" {
	requires root
	ferry check
	assert_success
	local left
	left=$(find /sys/fs/cgroup -maxdepth 2 -name 'ferry-check-*' 2>/dev/null)
	assert_eq "$left" "" "scratch cgroups"
}

@test "features carries the check results as annotations" {
	ferry check --list
	local names=("${lines[@]}")
	ferry features
	assert_success
	local features=$output n
	for n in "${names[@]}"; do
		jq -e --arg k "io.github.ferry.check.$n" \
			'.annotations[$k] | IN("supported", "missing", "broken")' <<<"$features" >/dev/null || {
			echo "annotation for $n missing or wrong" >&2
			return 1
		}
	done
	# ferry check and ferry features agree.
	check_json
	assert_eq "$(jq -r '.annotations["io.github.ferry.check.children-file"]' <<<"$features")" \
		"$(status_of children-file)" children-file
}

@test "the kernel patches apply to Debian's linux-source-6.12" {
	run_cmd "$REPO/kernel-patches/check-apply.sh"
	[ "$status" -ne 77 ] || skip "linux-source-6.12 is not installed (make kernel-test installs it)"
	assert_success
	local p
	for p in "$REPO"/kernel-patches/*.patch; do
		assert_output_has "ok: $(basename "$p") applies"
	done
}

@test "check --help exits 0" {
	ferry check --help
	assert_success
	assert_output_has "FERRY_FORCE_PPID_WALK"
}
