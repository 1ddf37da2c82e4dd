#!/usr/bin/env bats
# config.json: the process and its environment (hostname, env, cwd, user,
# capabilities, rlimits, no_new_privs, oom_score_adj, read-only root,
# personality, sysctl).

load helpers

@test "hostname sets the container's hostname, not the host's" {
	update_config '.hostname = "ferry-test-host"'
	payload_args hostname
	ferry run "$ID"
	assert_success
	assert_eq "$output" ferry-test-host hostname
	[ "$(hostname)" != ferry-test-host ]
}

@test "domainname sets the container's NIS domain name" {
	skip_if_runc "runc 1.1 ignores the domainname field"
	update_config '.domainname = "example.org"'
	payload_args domainname
	ferry run "$ID"
	assert_success
	assert_eq "$output" example.org domainname
}

@test "process.env is the environment, and nothing from the runtime's leaks in" {
	update_config '.process.env += ["FOO=bar", "WITH_SPACES=a b  c", "EMPTY="]'
	payload_args env
	FERRY_HOST_ONLY=leak ferry run "$ID"
	assert_success
	assert_output_has '^FOO=bar$'
	assert_output_has '^WITH_SPACES=a b  c$'
	assert_output_has '^EMPTY=$'
	assert_output_has '^PATH=/usr/local/sbin:'
	assert_output_lacks 'FERRY_HOST_ONLY'
}

@test "HOME comes from the container's /etc/passwd when env lacks it" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	payload_args env HOME
	ferry run "$ID"
	assert_success
	assert_eq "$output" /home/test HOME
}

@test "HOME from process.env wins over /etc/passwd" {
	update_config '.process.env += ["HOME=/somewhere"]'
	payload_args env HOME
	ferry run "$ID"
	assert_success
	assert_eq "$output" /somewhere HOME
}

@test "process.args[0] is looked up in the container's PATH" {
	set_args payload echo found-in-path
	ferry run "$ID"
	assert_success
	assert_eq "$output" found-in-path output
}

@test "process.cwd sets the working directory" {
	update_config '.process.cwd = "/etc"'
	payload_args cwd
	ferry run "$ID"
	assert_success
	assert_eq "$output" /etc cwd
}

@test "process.user sets uid and gid" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	payload_args uid
	ferry run "$ID"
	assert_success
	assert_eq "${lines[0]}" "1000 1000" "uid gid"
	assert_eq "${lines[1]}" "groups" "no supplementary groups"
}

@test "process.user.additionalGids sets the supplementary groups" {
	update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [10, 20, 65534]}'
	payload_args uid
	ferry run "$ID"
	assert_success
	assert_eq "${lines[1]}" "groups 10 20 65534" groups
}

@test "root's supplementary groups are cleared" {
	payload_args uid
	ferry run "$ID"
	assert_success
	assert_eq "${lines[0]}" "0 0" "uid gid"
	assert_eq "${lines[1]}" "groups" groups
}

@test "the default umask is 0022" {
	payload_args umask
	ferry run "$ID"
	assert_success
	assert_eq "$output" 0022 umask
}

@test "process.user.umask sets the umask" {
	update_config '.process.user.umask = 63'
	payload_args umask
	ferry run "$ID"
	assert_success
	assert_eq "$output" 0077 umask
}

@test "capabilities: each set is applied exactly" {
	# CAP_CHOWN 0, CAP_NET_RAW 13, CAP_SYS_ADMIN 21, CAP_SYS_PTRACE 19.
	update_config '.process.capabilities = {
		"bounding": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_SYS_ADMIN", "CAP_SYS_PTRACE"],
		"permitted": ["CAP_CHOWN", "CAP_NET_RAW", "CAP_SYS_ADMIN"],
		"effective": ["CAP_CHOWN", "CAP_NET_RAW"],
		"inheritable": ["CAP_CHOWN", "CAP_SYS_ADMIN"],
		"ambient": ["CAP_CHOWN"]
	}'
	payload_args caps
	ferry run "$ID"
	assert_success
	assert_output_has '^CapBnd 0000000000282001$'
	assert_output_has '^CapPrm 0000000000202001$'
	assert_output_has '^CapInh 0000000000200001$'
	assert_output_has '^CapAmb 0000000000000001$'
	# execve as root raises effective to permitted, whatever was asked.
	assert_output_has '^CapEff 0000000000202001$'
}

@test "capabilities: the default spec's three capabilities" {
	payload_args caps
	ferry run "$ID"
	assert_success
	assert_output_has '^CapBnd 0000000020000420$'
	assert_output_has '^CapPrm 0000000020000420$'
	assert_output_has '^CapEff 0000000020000420$'
}

@test "capabilities: empty sets drop everything" {
	update_config '.process.capabilities = {"bounding": [], "permitted": [], "effective": [], "inheritable": [], "ambient": []}'
	payload_args caps
	ferry run "$ID"
	assert_success
	local set
	for set in CapInh CapPrm CapEff CapBnd CapAmb; do
		assert_output_has "^$set 0000000000000000$"
	done
}

@test "capabilities: ambient ones survive into a non-root process" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}
		| .process.capabilities = {
			"bounding": ["CAP_NET_BIND_SERVICE"], "permitted": ["CAP_NET_BIND_SERVICE"],
			"effective": ["CAP_NET_BIND_SERVICE"], "inheritable": ["CAP_NET_BIND_SERVICE"],
			"ambient": ["CAP_NET_BIND_SERVICE"]}'
	payload_args caps
	ferry run "$ID"
	assert_success
	assert_output_has '^CapEff 0000000000000400$'
	assert_output_has '^CapAmb 0000000000000400$'
}

@test "capabilities: a non-root user without ambient ones has none effective" {
	update_config '.process.user = {"uid": 1000, "gid": 1000}'
	payload_args caps
	ferry run "$ID"
	assert_success
	assert_output_has '^CapEff 0000000000000000$'
	assert_output_has '^CapBnd 0000000020000420$'
}

@test "capabilities: an unknown name is ignored with a warning" {
	update_config '.process.capabilities.bounding += ["CAP_NO_SUCH_THING"]'
	payload_args caps
	ferry run "$ID"
	assert_success
	assert_output_has 'CAP_NO_SUCH_THING'
	assert_output_has '^CapBnd 0000000020000420$'
}

@test "rlimits: the default spec's RLIMIT_NOFILE 1024" {
	payload_args rlimit NOFILE
	ferry run "$ID"
	assert_success
	assert_eq "$output" "1024 1024" RLIMIT_NOFILE
}

@test "rlimits: soft and hard limits are set" {
	update_config '.process.rlimits = [
		{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
		{"type": "RLIMIT_CORE", "soft": 0, "hard": 0},
		{"type": "RLIMIT_NPROC", "soft": 500, "hard": 1000}]'
	set_args /bin/sh -c '/bin/payload rlimit NOFILE; /bin/payload rlimit CORE; /bin/payload rlimit NPROC'
	ferry run "$ID"
	assert_success
	assert_eq "${lines[0]}" "100 200" RLIMIT_NOFILE
	assert_eq "${lines[1]}" "0 0" RLIMIT_CORE
	assert_eq "${lines[2]}" "500 1000" RLIMIT_NPROC
}

@test "noNewPrivileges: true sets no_new_privs" {
	update_config '.process.noNewPrivileges = true'
	payload_args nnp
	ferry run "$ID"
	assert_success
	assert_eq "$output" 1 no_new_privs
}

@test "noNewPrivileges: false leaves it clear" {
	update_config '.process.noNewPrivileges = false'
	payload_args nnp
	ferry run "$ID"
	assert_success
	assert_eq "$output" 0 no_new_privs
}

@test "oomScoreAdj sets the process's oom_score_adj" {
	update_config '.process.oomScoreAdj = 500'
	payload_args oom-score-adj
	ferry run "$ID"
	assert_success
	assert_eq "$output" 500 oom_score_adj
}

@test "oomScoreAdj can be negative" {
	requires cap_sys_resource
	update_config '.process.oomScoreAdj = -200'
	payload_args oom-score-adj
	ferry run "$ID"
	assert_success
	assert_eq "$output" -200 oom_score_adj
}

@test "root.readonly: the root filesystem cannot be written" {
	update_config '.root.readonly = true'
	payload_args write /written yes
	ferry run "$ID"
	assert_failure
	assert_output_has 'Read-only file system'
	[ ! -e "$BUNDLE/rootfs/written" ]
}

@test "root.readonly false: the root filesystem is the bundle's rootfs, writable" {
	update_config '.root.readonly = false'
	payload_args write /written yes
	ferry run "$ID"
	assert_success
	assert_eq "$(cat "$BUNDLE/rootfs/written")" yes "file written in the container"
}

@test "root.path may be absolute" {
	mv "$BUNDLE/rootfs" "$TEST_DIR/elsewhere"
	update_config ".root.path = \"$TEST_DIR/elsewhere\""
	payload_args echo absolute-root
	ferry run "$ID"
	assert_success
	assert_eq "$output" absolute-root output
}

@test "personality LINUX32 makes the machine i686" {
	requires linux32
	skip_if_runc "runc 1.1 ignores linux.personality"
	update_config '.linux.personality = {"domain": "LINUX32"}'
	payload_args personality
	ferry run "$ID"
	assert_success
	assert_eq "$output" "persona=0x8 machine=i686" personality
}

@test "personality LINUX keeps the native machine" {
	update_config '.linux.personality = {"domain": "LINUX"}'
	payload_args personality
	ferry run "$ID"
	assert_success
	assert_eq "$output" "persona=0x0 machine=$(uname -m)" personality
}

@test "sysctl sets namespaced kernel parameters" {
	local host_msgmax
	host_msgmax=$(cat /proc/sys/kernel/msgmax)
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4096"}'
	set_args /bin/sh -c '/bin/payload sysctl net.ipv4.ip_forward; /bin/payload sysctl kernel.msgmax'
	ferry run "$ID"
	assert_success
	assert_eq "${lines[0]}" 1 net.ipv4.ip_forward
	assert_eq "${lines[1]}" 4096 kernel.msgmax
	assert_eq "$(cat /proc/sys/kernel/msgmax)" "$host_msgmax" "host's kernel.msgmax"
}

@test "sysctl refuses a parameter that is not namespaced" {
	update_config '.linux.sysctl = {"vm.swappiness": "10"}'
	payload_args exit 0
	ferry run "$ID"
	assert_failure
	assert_output_has 'vm.swappiness'
}

@test "terminal false: stdin and stdout are not ttys" {
	payload_args tty
	ferry run "$ID"
	assert_success
	assert_output_has '^stdin not a tty$'
	assert_output_has '^stdout not a tty$'
}
