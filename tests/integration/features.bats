#!/usr/bin/env bats
# features: the runtime-spec "features" document describing what the
# runtime supports.

load helpers

setup() {
	setup_test
}

features() {
	ferry features
	assert_success
	FEATURES=$output
}

fq() {
	jq -c "$1" <<<"$FEATURES"
}

@test "features prints one JSON object with the OCI version range" {
	features
	jq -e 'type == "object"' <<<"$FEATURES" >/dev/null
	fq .ociVersionMin | grep -qE '^"1\.[0-9]+\.[0-9]+'
	fq .ociVersionMax | grep -qE '^"1\.[0-9]+\.[0-9]+'
}

@test "features lists all six hooks" {
	features
	assert_eq "$(fq '.hooks | sort')" \
		'["createContainer","createRuntime","poststart","poststop","prestart","startContainer"]' hooks
}

@test "features lists the mount options" {
	features
	local opt
	for opt in bind rbind ro rw nosuid nodev noexec relatime strictatime private rprivate shared slave; do
		fq ".mountOptions | index(\"$opt\") != null" | grep -qx true || {
			echo "mount option $opt missing" >&2
			return 1
		}
	done
}

@test "features lists the namespaces" {
	features
	local ns
	for ns in cgroup ipc mount network pid user uts; do
		fq ".linux.namespaces | index(\"$ns\") != null" | grep -qx true || {
			echo "namespace $ns missing" >&2
			return 1
		}
	done
}

@test "features lists the time namespace" {
	skip_if_runc "runc 1.1 has no time namespace support"
	features
	assert_eq "$(fq '.linux.namespaces | index("time") != null')" true "time namespace"
}

@test "features lists the capabilities the kernel knows" {
	features
	local cap
	for cap in CAP_CHOWN CAP_KILL CAP_SYS_ADMIN CAP_NET_BIND_SERVICE CAP_AUDIT_WRITE CAP_CHECKPOINT_RESTORE; do
		fq ".linux.capabilities | index(\"$cap\") != null" | grep -qx true || {
			echo "capability $cap missing" >&2
			return 1
		}
	done
}

@test "features describes cgroup support" {
	features
	assert_eq "$(fq '.linux.cgroup.v1 | type')" '"boolean"' cgroup.v1
	assert_eq "$(fq '.linux.cgroup.v2 | type')" '"boolean"' cgroup.v2
	# This host has v1 hierarchies or a v2 one: at least one must be true.
	assert_eq "$(fq '.linux.cgroup.v1 or .linux.cgroup.v2')" true "some cgroup version"
}

@test "features describes seccomp support" {
	requires seccomp
	features
	assert_eq "$(fq .linux.seccomp.enabled)" true seccomp.enabled
	local x
	for x in SCMP_ACT_ALLOW SCMP_ACT_ERRNO SCMP_ACT_KILL SCMP_ACT_KILL_PROCESS SCMP_ACT_TRAP SCMP_ACT_LOG; do
		fq ".linux.seccomp.actions | index(\"$x\") != null" | grep -qx true || {
			echo "seccomp action $x missing" >&2
			return 1
		}
	done
	for x in SCMP_CMP_EQ SCMP_CMP_NE SCMP_CMP_MASKED_EQ; do
		fq ".linux.seccomp.operators | index(\"$x\") != null" | grep -qx true || {
			echo "seccomp operator $x missing" >&2
			return 1
		}
	done
	fq '.linux.seccomp.archs | index("SCMP_ARCH_X86_64") != null or index("SCMP_ARCH_AARCH64") != null' |
		grep -qx true
}

@test "features --help exits 0" {
	ferry features --help
	assert_success
	assert_output_has features
}
