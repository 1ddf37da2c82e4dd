#!/usr/bin/env bats
# linux.seccomp: filters built from config.json.

load helpers

setup() {
	setup_test
	requires seccomp
	setup_bundle
}

# seccomp JSON: set .linux.seccomp.
set_seccomp() {
	update_config ".linux.seccomp = $1"
}

# The syscalls a static payload and the runtime's last steps before execve
# need under a default-deny profile.
BASE_SYSCALLS='["execve", "execveat", "brk", "arch_prctl", "set_tid_address",
	"set_robust_list", "rseq", "prlimit64", "mmap", "munmap", "mprotect",
	"readlink", "readlinkat", "uname", "newfstatat", "fstat", "statx", "read",
	"write", "writev", "openat", "close", "close_range", "exit", "exit_group",
	"getrandom", "futex", "ioctl", "fcntl", "dup2", "dup3", "getpid",
	"gettid", "getppid", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"sigaltstack", "capget", "capset", "prctl", "setgroups", "setresuid",
	"setresgid", "setuid", "setgid", "chdir", "fchdir", "getcwd", "umask",
	"getuid", "getgid", "geteuid", "getegid", "lseek", "access",
	"faccessat", "faccessat2", "stat", "lstat", "madvise", "tgkill",
	"epoll_pwait", "epoll_ctl", "nanosleep", "clock_nanosleep",
	"sched_yield", "setsid", "wait4", "waitid", "kill", "pipe2", "statfs",
	"fstatfs", "getdents64", "sched_getaffinity"]'

@test "an errno rule makes mkdir fail with EPERM, other syscalls work" {
	set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	payload_args syscall-test
	ferry run "$ID"
	assert_success
	assert_output_has '^mkdir EPERM$'
	assert_output_has '^chmod OK$'
	assert_output_has '^getcwd OK$'
}

@test "errnoRet picks the errno" {
	set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
		             {"names": ["chmod", "fchmodat", "fchmodat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}'
	payload_args syscall-test
	ferry run "$ID"
	assert_success
	assert_output_has '^mkdir EACCES$'
	assert_output_has '^chmod ENOSYS$'
}

@test "without the filter the same syscalls succeed" {
	payload_args syscall-test
	ferry run "$ID"
	assert_success
	assert_output_has '^mkdir OK$'
	assert_output_has '^chmod OK$'
}

@test "a default-errno profile denies everything not listed" {
	set_seccomp "{\"defaultAction\": \"SCMP_ACT_ERRNO\",
		\"syscalls\": [{\"names\": $BASE_SYSCALLS, \"action\": \"SCMP_ACT_ALLOW\"}]}"
	payload_args syscall-test
	ferry run "$ID"
	assert_success
	assert_output_has '^mkdir EPERM$'
	assert_output_has '^chmod EPERM$'
	assert_output_has '^getcwd OK$'
	assert_output_has '^getpid OK$'
}

@test "defaultErrnoRet sets the default action's errno" {
	set_seccomp "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 38,
		\"syscalls\": [{\"names\": $BASE_SYSCALLS, \"action\": \"SCMP_ACT_ALLOW\"}]}"
	payload_args syscall-test
	ferry run "$ID"
	assert_success
	assert_output_has '^mkdir ENOSYS$'
	assert_output_has '^getcwd OK$'
}

@test "SCMP_ACT_KILL kills the process with SIGSYS" {
	set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL"}]}'
	payload_args syscall-test
	ferry run "$ID"
	# 128 + SIGSYS (31)
	assert_status 159
	assert_output_lacks '^mkdir'
}

@test "argument conditions: only the matching call is refused" {
	# mkdir(path, 0755) is refused; mkdir with another mode is not.
	set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [
			{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
			 "args": [{"index": 1, "value": 493, "op": "SCMP_CMP_EQ"}]},
			{"names": ["mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
			 "args": [{"index": 2, "value": 493, "op": "SCMP_CMP_EQ"}]}]}'
	set_args /bin/sh -c 'payload syscall-test; mkdir -m 700 /dev/shm/other && echo other-mode-ok'
	ferry run "$ID"
	assert_success
	assert_output_has '^mkdir EPERM$'
	assert_output_has '^other-mode-ok$'
}

@test "unknown syscall names are skipped" {
	set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat", "ferry_no_such_syscall"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	payload_args syscall-test
	ferry run "$ID"
	assert_success
	assert_output_has '^mkdir EPERM$'
}

@test "the filter is in mode 2 in the process" {
	set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]}'
	payload_args cat /proc/self/status
	ferry run "$ID"
	assert_success
	assert_output_has '^Seccomp:[[:space:]]+2$'
}

@test "processes started with exec get the same filter" {
	set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	run_detached
	ferry exec "$ID" /bin/payload syscall-test
	assert_success
	assert_output_has '^mkdir EPERM$'
}

@test "SCMP_ACT_LOG allows the call" {
	set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_LOG"}]}'
	payload_args syscall-test
	ferry run "$ID"
	assert_success
	assert_output_has '^mkdir OK$'
}

@test "the filter applies to a non-root process without no_new_privs" {
	update_config '.process.user = {"uid": 1000, "gid": 1000} | .process.noNewPrivileges = false'
	set_seccomp '{"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
	set_args /bin/sh -c 'payload syscall-test; payload nnp'
	ferry run "$ID"
	assert_success
	assert_output_has '^mkdir EPERM$'
	assert_eq "${lines[-1]}" 0 no_new_privs
}

@test "an unknown action fails the create" {
	set_seccomp '{"defaultAction": "SCMP_ACT_FROBNICATE"}'
	ferry create "$ID"
	assert_failure
	assert_output_has 'SCMP_ACT_FROBNICATE'
	ferry list -q
	assert_eq "$output" "" containers
}
