#!/usr/bin/env bats
# spec: write runc's default config.json.

load helpers

setup() {
	setup_test
	mkdir "$TEST_DIR/spec"
	cd "$TEST_DIR/spec"
}

spec_json() {
	jq -c "$1" "$TEST_DIR/spec/config.json"
}

@test "spec writes a valid config.json in the working directory" {
	ferry spec
	assert_success
	[ -f config.json ]
	jq -e . config.json >/dev/null
	spec_json '.ociVersion' | grep -qE '^"1\.[0-9]+\.[0-9]+'
	assert_eq "$(spec_json .root)" '{"path":"rootfs","readonly":true}' root
	jq -e '.hostname | type == "string" and length > 0' config.json >/dev/null
}

@test "spec's default process is an interactive sh as root" {
	ferry spec
	assert_success
	assert_eq "$(spec_json .process.terminal)" true terminal
	assert_eq "$(spec_json .process.args)" '["sh"]' args
	assert_eq "$(spec_json .process.cwd)" '"/"' cwd
	assert_eq "$(spec_json '.process.user | {uid, gid}')" '{"uid":0,"gid":0}' user
	assert_eq "$(spec_json .process.env)" \
		'["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"]' env
	assert_eq "$(spec_json .process.noNewPrivileges)" true noNewPrivileges
	assert_eq "$(spec_json .process.rlimits)" '[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}]' rlimits
}

@test "spec's default capabilities are AUDIT_WRITE, KILL and NET_BIND_SERVICE" {
	ferry spec
	assert_success
	local want='["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]' set
	for set in bounding effective permitted; do
		assert_eq "$(spec_json ".process.capabilities.$set | sort")" "$want" "$set"
	done
}

@test "spec's default namespaces are pid, network, ipc, uts and mount" {
	ferry spec
	assert_success
	assert_eq "$(spec_json '[.linux.namespaces[].type] | sort')" \
		'["ipc","mount","network","pid","uts"]' namespaces
	assert_eq "$(spec_json '[.linux.namespaces[] | select(.path)] | length')" 0 "namespaces with a path"
}

@test "spec's default mounts are runc's" {
	ferry spec
	assert_success
	assert_eq "$(spec_json '[.mounts[] | .destination + ":" + .type]')" \
		'["/proc:proc","/dev:tmpfs","/dev/pts:devpts","/dev/shm:tmpfs","/dev/mqueue:mqueue","/sys:sysfs","/sys/fs/cgroup:cgroup"]' mounts
	assert_eq "$(spec_json '.mounts[] | select(.destination == "/sys") | .options | index("ro") != null')" true "/sys read-only"
	assert_eq "$(spec_json '.mounts[] | select(.destination == "/dev/pts") | .options | sort')" \
		'["gid=5","mode=0620","newinstance","noexec","nosuid","ptmxmode=0666"]' "devpts options"
}

@test "spec's default masked and read-only paths are runc's" {
	ferry spec
	assert_success
	# runc 1.1's list, every path of it; newer runc (and ferry) also mask
	# /sys/devices/virtual/tpm, so one extra path under /sys/devices is fine.
	local runc11='["/proc/acpi","/proc/asound","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/sched_debug","/proc/scsi","/proc/timer_list","/proc/timer_stats","/sys/firmware"]'
	assert_eq "$(spec_json "$runc11 - .linux.maskedPaths")" '[]' "runc's masked paths missing"
	assert_eq "$(spec_json ".linux.maskedPaths - $runc11 | map(select(startswith(\"/sys/devices/\") | not))")" '[]' "unexpected masked paths"
	assert_eq "$(spec_json '.linux.readonlyPaths | sort')" \
		'["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]' readonlyPaths
}

@test "spec's default device cgroup denies everything" {
	ferry spec
	assert_success
	assert_eq "$(spec_json .linux.resources.devices)" '[{"allow":false,"access":"rwm"}]' devices
}

@test "spec refuses to overwrite an existing config.json" {
	echo '{"mine": true}' >config.json
	ferry spec
	assert_failure
	assert_output_has "config.json"
	assert_eq "$(cat config.json)" '{"mine": true}' "config.json"
}

@test "spec --bundle writes into that directory" {
	mkdir "$TEST_DIR/elsewhere"
	ferry spec --bundle "$TEST_DIR/elsewhere"
	assert_success
	jq -e .ociVersion "$TEST_DIR/elsewhere/config.json" >/dev/null
	[ ! -e config.json ]
}

@test "spec -b is --bundle" {
	mkdir "$TEST_DIR/elsewhere"
	ferry spec -b "$TEST_DIR/elsewhere"
	assert_success
	[ -f "$TEST_DIR/elsewhere/config.json" ]
}

@test "spec --bundle with a missing directory fails" {
	ferry spec --bundle "$TEST_DIR/missing"
	assert_failure
	[ ! -e "$TEST_DIR/missing" ]
}

@test "spec --rootless maps the caller into a user namespace" {
	ferry spec --rootless
	assert_success
	assert_eq "$(spec_json '[.linux.namespaces[].type] | sort')" \
		'["ipc","mount","pid","user","uts"]' namespaces
	assert_eq "$(spec_json '.linux.uidMappings')" "[{\"containerID\":0,\"hostID\":$(id -u),\"size\":1}]" uidMappings
	assert_eq "$(spec_json '.linux.gidMappings')" "[{\"containerID\":0,\"hostID\":$(id -g),\"size\":1}]" gidMappings
	assert_eq "$(spec_json '.linux.resources')" null resources
}

@test "a spec config.json runs once given a rootfs and a command" {
	ferry spec
	assert_success
	setup_bundle "$TEST_DIR/fresh"
	cp "$TEST_DIR/spec/config.json" "$BUNDLE/config.json"
	update_config ".process.terminal = false | .process.args = [\"/bin/payload\", \"echo\", \"from-spec\"]
		| .process.env += [\"FERRY_TEST_TAG=$TAG\"]"
	ferry run "$ID"
	assert_success
	assert_eq "$output" from-spec output
}
