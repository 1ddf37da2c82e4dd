#!/usr/bin/env bats
# Terminals: process.terminal with --console-socket, and exec -t. The host
# end is `payload recvtty`, which takes the pty master from the socket and
# copies what the container writes to a file.

load helpers

setup() {
	setup_test
	setup_bundle
	SOCK=$TEST_DIR/tty.sock
	TTY_OUT=$TEST_DIR/tty.out
}

# What the container wrote to its terminal, without the tty's \r.
tty_output() {
	tr -d '\r' <"$TTY_OUT"
}

@test "run -d with a terminal hands the pty master to --console-socket" {
	update_config '.process.terminal = true'
	set_args /bin/sh -c 'payload tty; payload echo through-the-pty'
	start_recvtty "$SOCK" "$TTY_OUT"
	ferry run -d --console-socket "$SOCK" "$ID"
	assert_success
	wait_for_output "$TTY_OUT" '^through-the-pty'
	run_cmd tty_output
	assert_output_has '^stdin /dev/pts/[0-9]+$'
	assert_output_has '^stdout /dev/pts/[0-9]+$'
}

@test "create with a terminal: output reaches the console after start" {
	update_config '.process.terminal = true'
	payload_args echo after-start
	start_recvtty "$SOCK" "$TTY_OUT"
	ferry create --console-socket "$SOCK" "$ID"
	assert_success
	assert_eq "$(container_status "$ID")" created status
	ferry start "$ID"
	assert_success
	wait_for_output "$TTY_OUT" '^after-start'
	wait_for_state "$ID" stopped
}

@test "process.consoleSize sets the terminal's size" {
	update_config '.process.terminal = true | .process.consoleSize = {"height": 40, "width": 100}'
	payload_args tty
	start_recvtty "$SOCK" "$TTY_OUT"
	ferry run -d --console-socket "$SOCK" "$ID"
	assert_success
	wait_for_output "$TTY_OUT" '^size'
	run_cmd tty_output
	assert_output_has '^size 40 100$'
}

@test "/dev/console is the container's terminal" {
	update_config '.process.terminal = true'
	payload_args stat /dev/console
	start_recvtty "$SOCK" "$TTY_OUT"
	ferry run -d --console-socket "$SOCK" "$ID"
	assert_success
	# A pty slave: major 136.
	wait_for_output "$TTY_OUT" '^c [0-7]+ [0-9]+ [0-9]+ 136:[0-9]+'
}

@test "input written to the pty master reaches the process" {
	update_config '.process.terminal = true'
	payload_args stdin
	# "ping", a newline, then ^D: end of input for the process.
	start_recvtty "$SOCK" "$TTY_OUT" $'ping\n\x04'
	ferry run -d --console-socket "$SOCK" "$ID"
	assert_success
	wait_for_state "$ID" stopped
	# The tty echoes the line, then the process copies it back.
	eventually '[ "$(tty_output | grep -c "^ping$")" -eq 2 ]'
}

@test "exec -d -t gives the new process its own pty" {
	run_detached
	start_recvtty "$SOCK" "$TTY_OUT"
	ferry exec -d -t --console-socket "$SOCK" "$ID" /bin/payload tty
	assert_success
	wait_for_output "$TTY_OUT" '^stdout'
	run_cmd tty_output
	assert_output_has '^stdin /dev/pts/[0-9]+$'
	assert_output_has '^stdout /dev/pts/[0-9]+$'
}

@test "exec --tty is -t" {
	run_detached
	start_recvtty "$SOCK" "$TTY_OUT"
	ferry exec --detach --tty --console-socket "$SOCK" "$ID" /bin/payload echo long-flags
	assert_success
	wait_for_output "$TTY_OUT" '^long-flags'
}

@test "a terminal with -d but no --console-socket is refused" {
	update_config '.process.terminal = true'
	ferry run -d "$ID"
	assert_failure
	assert_output_has 'console'
	ferry list -q
	assert_eq "$output" "" containers
}

@test "--console-socket without a terminal is refused" {
	start_recvtty "$SOCK" "$TTY_OUT"
	ferry run -d --console-socket "$SOCK" "$ID"
	assert_failure
	assert_output_has 'console'
	ferry list -q
	assert_eq "$output" "" containers
}

@test "a --console-socket nobody listens on fails the create" {
	update_config '.process.terminal = true'
	touch "$TEST_DIR/not-a-socket"
	ferry create --console-socket "$TEST_DIR/not-a-socket" "$ID"
	assert_failure
	assert_output_has 'not-a-socket'
	ferry list -q
	assert_eq "$output" "" containers
	eventually '[ -z "$(tagged_pids)" ]'
}
