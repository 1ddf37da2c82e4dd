#!/usr/bin/env bats
# checkpoint and restore from the command line, with runc's flags: what the
# container looks like before and after, the error paths and what they leave
# behind, the image directory (stats-dump.json, `ferry inspect`). The state of
# the processes themselves is checked by the zdtm programs (tests/zdtm/run.sh).

load helpers

# requires_verb VERB...: skip until the runtime has these commands.
requires_verb() {
	local v
	for v in "$@"; do
		"$FERRY" "$v" --help >/dev/null 2>&1 || skip "$RUNTIME $v is not implemented"
	done
	if is_runc; then
		command -v criu >/dev/null || skip "runc checkpoints with criu, which is not installed"
	fi
}

setup() {
	setup_test
	setup_bundle
	# Restore needs nothing from the rootfs to be writable, but the tests
	# below leave marks in /tmp.
	update_config '.root.readonly = false'
	IMG=$TEST_DIR/img
}

teardown() {
	# the --auto-dedup failure test's immutable page file, if it stopped early
	[ -z "${IMMUTABLE:-}" ] || chattr -i "$IMMUTABLE" 2>/dev/null || true
	teardown_test
}

# The pids (in the container's pid namespace) of init's children.
children_in_ns() {
	local id=${1:-$ID}
	timeout 10 "$FERRY" --root "$ROOT" exec "$id" /bin/cat /proc/1/task/1/children 2>/dev/null |
		tr ' ' '\n' | sed '/^$/d' | sort -n | tr '\n' ' '
}

# Nothing of container $1 is left: not listed, no state, no cgroup named
# after it, no process of this test.
assert_nothing_left() {
	local id=$1
	ferry list -q
	assert_output_lacks "^$id\$"
	ferry state "$id"
	assert_failure
	local cg
	cg=$(find /sys/fs/cgroup -type d -name "*$id*" 2>/dev/null | head -5)
	assert_eq "$cg" "" "cgroups of $id"
	assert_eq "$(tagged_pids | tr '\n' ' ')" "" "processes left behind"
}

# A running container whose init has N sleeping children (payload spawn N);
# CHILDREN: their pids in its pid namespace.
run_with_children() {
	payload_args spawn "$1"
	run_detached
	eventually "[ \"\$(children_in_ns | wc -w)\" -eq $1 ]"
	CHILDREN=$(children_in_ns)
}

# Restore $IMG as $ID: it must run, init's children must be $1 and it
# must take an exec.
restored_with_children() {
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	assert_eq "$(children_in_ns)" "$1" "init's children"
	ferry exec "$ID" /bin/payload echo still here
	assert_success
}

# A running container (init with two sleeping children), checkpointed
# into $IMG.
checkpointed_container() {
	run_with_children 2
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
}

@test "checkpoint stops the container, removes it and writes images" {
	requires_verb checkpoint
	payload_args sleep
	run_detached
	local pid
	pid=$(container_pid "$ID")
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	eventually "pid_gone $pid"
	ferry list -q
	assert_output_lacks "^$ID\$"
	ferry state "$ID"
	assert_failure
	run_cmd ls -A "$IMG"
	assert_success
	[ -n "$output" ]
}

@test "restore brings the container back running with the same pids in its namespace" {
	requires_verb checkpoint restore
	checkpointed_container
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	assert_eq "$(children_in_ns)" "$CHILDREN" "init's children"
	# NULs cannot survive a shell variable: translate inside the container.
	ferry exec "$ID" /bin/sh -c "tr '\\0' ' ' </proc/1/cmdline"
	assert_success
	assert_eq "$output" "/bin/payload spawn 2 " "init's command line"
}

@test "restore --bundle rebuilds the container from another directory" {
	requires_verb checkpoint restore
	checkpointed_container
	cd /
	ferry restore --detach --bundle "$BUNDLE" --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	ferry state "$ID"
	assert_eq "$(jq -r .bundle <<<"$output")" "$BUNDLE" bundle
}

@test "exec, ps, kill, pause, resume and delete work on a restored container" {
	requires_verb checkpoint restore
	checkpointed_container
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	local pid
	pid=$(container_pid "$ID")

	ferry exec "$ID" /bin/payload echo after restore
	assert_success
	assert_eq "$output" "after restore" "exec output"

	ferry ps -f json "$ID"
	assert_success
	assert_eq "$(jq length <<<"$output")" 3 "number of processes"
	assert_eq "$(jq -c 'sort' <<<"$output")" "$(tagged_pids | sort -n | jq -s -c .)" pids
	jq -e --argjson p "$pid" 'index($p) != null' <<<"$output" >/dev/null

	ferry pause "$ID"
	assert_success
	wait_for_state "$ID" paused
	ferry resume "$ID"
	assert_success
	wait_for_state "$ID" running

	ferry kill "$ID" KILL
	assert_success
	wait_for_state "$ID" stopped
	ferry delete "$ID"
	assert_success
	assert_nothing_left "$ID"
}

@test "a restored container can be checkpointed and restored again" {
	requires_verb checkpoint restore
	checkpointed_container
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	ferry checkpoint --image-path "$TEST_DIR/img2" "$ID"
	assert_success
	ferry state "$ID"
	assert_failure
	ferry restore --detach --image-path "$TEST_DIR/img2" "$ID"
	assert_success
	wait_for_state "$ID" running
	assert_eq "$(children_in_ns)" "$CHILDREN" "init's children after two cycles"
}

@test "restore under a new id" {
	requires_verb checkpoint restore
	checkpointed_container
	local new=$ID-new
	ferry restore --detach --image-path "$IMG" "$new"
	assert_success
	wait_for_state "$new" running
	ferry list -q
	assert_output_has "^$new\$"
	assert_output_lacks "^$ID\$"
	assert_eq "$(children_in_ns "$new")" "$CHILDREN" "init's children"
	ferry delete --force "$new"
	assert_success
}

@test "restoring twice from the same image gives two independent containers" {
	requires_verb checkpoint restore
	checkpointed_container
	ferry restore --detach --image-path "$IMG" "$ID-a"
	assert_success
	ferry restore --detach --image-path "$IMG" "$ID-b"
	assert_success
	wait_for_state "$ID-a" running
	wait_for_state "$ID-b" running
	local a b
	a=$(container_pid "$ID-a")
	b=$(container_pid "$ID-b")
	[ "$a" != "$b" ]
	assert_eq "$(children_in_ns "$ID-a")" "$CHILDREN" "children of $ID-a"
	assert_eq "$(children_in_ns "$ID-b")" "$CHILDREN" "children of $ID-b"
	# Killing one leaves the other alone.
	ferry kill "$ID-a" KILL
	assert_success
	wait_for_state "$ID-a" stopped
	assert_eq "$(container_status "$ID-b")" running "status of $ID-b"
}

@test "checkpoint --leave-running keeps the container running" {
	requires_verb checkpoint
	run_with_children 2
	local pid children
	pid=$(container_pid "$ID")
	children=$(children_in_ns)
	ferry checkpoint --leave-running --image-path "$IMG" "$ID"
	assert_success
	assert_eq "$(container_status "$ID")" running status
	assert_eq "$(container_pid "$ID")" "$pid" pid
	assert_eq "$(children_in_ns)" "$children" "init's children"
	# Thawed and untraced, not merely listed as running.
	assert_eq "$(awk '/^TracerPid:/ { print $2 }' "/proc/$pid/status")" 0 TracerPid
	[[ "$(awk '/^State:/ { print $2 }' "/proc/$pid/status")" != [tT] ]]
	ferry exec "$ID" /bin/payload echo still here
	assert_success
	run_cmd ls -A "$IMG"
	[ -n "$output" ]
}

@test "the image of a container left running restores under a new id" {
	requires_verb checkpoint restore
	run_with_children 2
	local children
	children=$(children_in_ns)
	ferry checkpoint --leave-running --image-path "$IMG" "$ID"
	assert_success
	ferry restore --detach --image-path "$IMG" "$ID-copy"
	assert_success
	wait_for_state "$ID-copy" running
	assert_eq "$(container_status "$ID")" running "the original's status"
	assert_eq "$(children_in_ns "$ID-copy")" "$children" "the copy's children"
}

# The userfaultfd holder of container $1's memory tracking, if it runs.
tracker_pid() {
	local p
	for p in $(pgrep -x ferry-memtrack); do
		ls -l "/proc/$p/fd" 2>/dev/null | grep -q -- "-> $ROOT/$1\$" && echo "$p"
	done
}

@test "checkpoint --pre-dump writes the memory only and leaves the container running" {
	requires_verb checkpoint
	run_with_children 2
	local pid children
	pid=$(container_pid "$ID")
	children=$(children_in_ns)
	ferry checkpoint --pre-dump --image-path "$IMG.pre" "$ID"
	assert_success
	assert_eq "$(container_status "$ID")" running status
	assert_eq "$(container_pid "$ID")" "$pid" pid
	assert_eq "$(children_in_ns)" "$children" "init's children"
	[ -e "$IMG.pre/pages-1.img" ] && [ ! -e "$IMG.pre/files.img" ] && [ ! -e "$IMG.pre/core-1.img" ]
	[ "$(jq .pages_written "$IMG.pre/stats-dump.json")" -gt 0 ]
	ferry inspect "$IMG.pre"
	assert_success
	assert_output_has 'a pre-dump: memory only'
	# A pre-dump cannot be restored by itself.
	ferry restore --detach --image-path "$IMG.pre" "$ID-copy"
	assert_failure
	assert_output_has 'pre-dump'
	ferry state "$ID-copy"
	assert_failure
	assert_eq "$(find /sys/fs/cgroup -type d -name "*$ID-copy*" | head -3)" "" "cgroups of $ID-copy"
	# --leave-running is implied, and accepted as runc accepts it.
	ferry checkpoint --pre-dump --leave-running --image-path "$IMG.pre2" --parent-path ../img.pre "$ID"
	assert_success
	assert_eq "$(container_status "$ID")" running status
}

@test "a checkpoint against a pre-dump writes only what changed and restores whole" {
	requires_verb checkpoint restore
	run_with_children 2
	local children
	children=$(children_in_ns)
	ferry checkpoint --pre-dump --image-path "$TEST_DIR/pre" "$ID"
	assert_success
	[ -n "$(tracker_pid "$ID")" ]
	ferry checkpoint --image-path "$IMG" --parent-path ../pre "$ID"
	assert_success
	assert_eq "$(readlink "$IMG/parent")" ../pre "the parent link"
	local full written parent
	full=$(jq .pages_written "$TEST_DIR/pre/stats-dump.json")
	written=$(jq .pages_written "$IMG/stats-dump.json")
	parent=$(jq .pages_in_parent "$IMG/stats-dump.json")
	# Idle processes: nearly every page is in the pre-dump.
	[ "$parent" -gt 0 ] && [ "$written" -lt "$full" ] ||
		{ echo "pre-dump wrote $full pages; the checkpoint $written, $parent in the parent"; false; }
	ferry inspect "$IMG"
	assert_success
	assert_output_has 'in the parent dump'
	# The container is gone, and with it the tracking.
	eventually '[ -z "$(tracker_pid "$ID")" ]'
	restored_with_children "$children"
}

@test "a parent that is not the last tracked dump is not trusted: every page is written" {
	requires_verb checkpoint restore
	payload_args sleep
	run_detached
	ferry checkpoint --pre-dump --image-path "$TEST_DIR/pre-1" "$ID"
	assert_success
	ferry checkpoint --pre-dump --image-path "$TEST_DIR/pre-2" --parent-path ../pre-1 "$ID"
	assert_success
	[ "$(jq .pages_in_parent "$TEST_DIR/pre-2/stats-dump.json")" -gt 0 ]
	local before
	before=$(du -s --block-size=1 "$TEST_DIR/pre-1" | cut -f1)
	# pre-1 is not the last: pages written since pre-2 would be missed. Not
	# used as a parent, it is not punched by --auto-dedup either.
	ferry checkpoint --auto-dedup --image-path "$IMG" --parent-path ../pre-1 "$ID"
	assert_success
	assert_output_has 'not the last dump'
	assert_eq "$(jq .pages_in_parent "$IMG/stats-dump.json")" 0 pages_in_parent
	assert_eq "$(jq .parent_pages_freed "$IMG/stats-dump.json")" 0 parent_pages_freed
	assert_eq "$(du -s --block-size=1 "$TEST_DIR/pre-1" | cut -f1)" "$before" "pre-1's size"
	[ ! -e "$IMG/parent" ]
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
}

# The blocks (512 bytes) file $1 takes.
blocks_of() { stat -c %b "$1"; }

@test "checkpoint --auto-dedup punches what it does not need out of its parents" {
	requires_verb checkpoint restore
	run_with_children 2
	local gone kept
	read -r gone kept <<<"$CHILDREN"
	# with no parent there is nothing to punch
	ferry checkpoint --leave-running --auto-dedup --image-path "$IMG.alone" "$ID"
	assert_success
	assert_eq "$(jq .parent_pages_freed "$IMG.alone/stats-dump.json")" 0 parent_pages_freed
	ferry checkpoint --pre-dump --image-path "$TEST_DIR/pre" "$ID"
	assert_success
	local pre_blocks gone_blocks
	pre_blocks=$(du -s "$TEST_DIR/pre" | cut -f1)
	gone_blocks=$(blocks_of "$TEST_DIR/pre/pages-$gone.img")
	# A child that is gone by the checkpoint needs none of its pages.
	ferry exec "$ID" /bin/kill -9 "$gone"
	assert_success
	eventually '[ "$(children_in_ns)" = "$kept " ]'
	ferry checkpoint --auto-dedup --image-path "$IMG" --parent-path ../pre "$ID"
	assert_success
	assert_output_lacks 'auto-dedup'
	local freed
	freed=$(jq .parent_pages_freed "$IMG/stats-dump.json")
	[ "$freed" -gt 0 ] || { cat "$IMG/stats-dump.json"; false; }
	# Only its header page is left of the child's page file.
	[ "$(blocks_of "$TEST_DIR/pre/pages-$gone.img")" -le 8 ] ||
		{ echo "pages-$gone.img: $gone_blocks blocks before, $(blocks_of "$TEST_DIR/pre/pages-$gone.img") after"; false; }
	[ "$(du -s "$TEST_DIR/pre" | cut -f1)" -lt "$pre_blocks" ]
	ferry inspect "$IMG"
	assert_success
	restored_with_children "$kept "
	# Restore leaves the images as they were: a second restore works.
	ferry delete --force "$ID"
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
}

@test "checkpoint --auto-dedup leaves a whole checkpoint in the chain restorable" {
	requires_verb checkpoint restore
	run_with_children 2
	local gone kept
	read -r gone kept <<<"$CHILDREN"
	ferry checkpoint --pre-dump --image-path "$TEST_DIR/pre" "$ID"
	assert_success
	# a whole checkpoint against the pre-dump, the container left running
	ferry checkpoint --leave-running --image-path "$TEST_DIR/whole" --parent-path ../pre "$ID"
	assert_success
	local pre_blocks whole_blocks
	pre_blocks=$(du -s --block-size=1 "$TEST_DIR/pre" | cut -f1)
	whole_blocks=$(du -s --block-size=1 "$TEST_DIR/whole" | cut -f1)
	ferry exec "$ID" /bin/kill -9 "$gone"
	assert_success
	eventually '[ "$(children_in_ns)" = "$kept " ]'
	ferry checkpoint --auto-dedup --image-path "$IMG" --parent-path ../whole "$ID"
	assert_success
	assert_eq "$(jq .parent_pages_freed "$IMG/stats-dump.json")" 0 parent_pages_freed
	assert_eq "$(du -s --block-size=1 "$TEST_DIR/pre" | cut -f1)" "$pre_blocks" "the pre-dump's size"
	assert_eq "$(du -s --block-size=1 "$TEST_DIR/whole" | cut -f1)" "$whole_blocks" \
		"the whole checkpoint's size"
	# the whole checkpoint still restores, with the child gone since
	ferry restore --detach --image-path "$TEST_DIR/whole" "$ID-whole"
	assert_success
	wait_for_state "$ID-whole" running
	assert_eq "$(children_in_ns "$ID-whole")" "$CHILDREN" "the whole checkpoint's children"
	restored_with_children "$kept "
}

@test "a failed --auto-dedup is a warning: the checkpoint stands and restores" {
	requires_verb checkpoint restore
	is_runc && skip "ferry's warning"
	run_with_children 1
	local child=${CHILDREN% }
	ferry checkpoint --pre-dump --image-path "$TEST_DIR/pre" "$ID"
	assert_success
	ferry exec "$ID" /bin/kill -9 "$child"
	assert_success
	eventually '[ -z "$(children_in_ns)" ]'
	# a page file that cannot be opened for writing: no punching there
	IMMUTABLE=$TEST_DIR/pre/pages-$child.img
	chattr +i "$IMMUTABLE" || skip "chattr +i does not work under $TEST_DIR"
	ferry checkpoint --auto-dedup --image-path "$IMG" --parent-path ../pre "$ID"
	chattr -i "$IMMUTABLE"
	assert_success
	assert_output_has 'auto-dedup'
	assert_output_has "pages-$child.img"
	assert_output_has 'the checkpoint is complete'
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
}

@test "checkpoint --parent-path to a missing directory fails and leaves the container running" {
	requires_verb checkpoint
	payload_args sleep
	run_detached
	ferry checkpoint --image-path "$IMG" --parent-path ../no-such-dump "$ID"
	assert_failure
	assert_output_has 'no-such-dump'
	assert_eq "$(container_status "$ID")" running status
}

@test "restore fails cleanly when the parent dump is missing, replaced or corrupt" {
	requires_verb checkpoint restore
	run_with_children 2
	ferry checkpoint --pre-dump --image-path "$TEST_DIR/pre" "$ID"
	assert_success
	ferry checkpoint --image-path "$IMG" --parent-path ../pre "$ID"
	assert_success
	mv "$TEST_DIR/pre" "$TEST_DIR/pre.good"
	ferry restore --detach --image-path "$IMG" "$ID-1"
	assert_failure
	assert_output_has 'parent dump'
	assert_nothing_left "$ID-1"
	# Another container's pre-dump under the parent's name: another dump id.
	payload_args sleep
	run_detached "$ID-other"
	ferry checkpoint --pre-dump --image-path "$TEST_DIR/pre" "$ID-other"
	assert_success
	ferry delete --force "$ID-other"
	assert_success
	eventually '[ -z "$(tagged_pids)" ]'
	ferry restore --detach --image-path "$IMG" "$ID-2"
	assert_failure
	assert_output_has 'not the dump'
	assert_nothing_left "$ID-2"
	rm -rf "$TEST_DIR/pre"
	cp -a "$TEST_DIR/pre.good" "$TEST_DIR/pre"
	truncate -s 8192 "$TEST_DIR/pre/pages-1.img"
	ferry restore --detach --image-path "$IMG" "$ID-3"
	assert_failure
	assert_output_has 'truncated'
	assert_nothing_left "$ID-3"
	rm -rf "$TEST_DIR/pre"
	mv "$TEST_DIR/pre.good" "$TEST_DIR/pre"
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
}

@test "checkpoint and restore --empty-ns network: the new network namespace has loopback up" {
	requires_verb checkpoint restore
	payload_args sleep
	run_detached
	ferry checkpoint --empty-ns network --image-path "$IMG" "$ID"
	assert_success
	ferry restore --empty-ns network --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	ferry exec "$ID" /bin/payload cat /sys/class/net/lo/flags
	assert_success
	# IFF_UP | IFF_LOOPBACK (and nothing saved from before: a new namespace)
	(($(head -1 <<<"$output") & 0x1)) || { echo "loopback is down: $output"; false; }
}

@test "--empty-ns refuses every namespace but the network one" {
	requires_verb checkpoint
	payload_args sleep
	run_detached
	ferry checkpoint --empty-ns ipc --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has 'only the network namespace'
	assert_eq "$(container_status "$ID")" running status
	ferry restore --empty-ns pid --image-path "$IMG" "$ID-new"
	assert_failure
	assert_output_has 'only the network namespace'
}

@test "a container whose stdio is the caller's terminal needs --shell-job at checkpoint and restore" {
	requires_verb checkpoint restore
	payload_args sleep
	# Started under script(1): the detached container's stdio is script's pty.
	run_cmd script -qec "$(printf '%q ' "$FERRY" --root "$ROOT" run -d "$ID")" /dev/null
	assert_success
	wait_for_state "$ID" running
	local pid
	pid=$(container_pid "$ID")
	[[ "$(readlink "/proc/$pid/fd/0")" == /dev/pts/* ]]
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has 'shell job'
	assert_output_has '--shell-job'
	assert_eq "$(container_status "$ID")" running status
	[ ! -e "$IMG" ] || { echo "the failed checkpoint left $(ls -A "$IMG")"; false; }
	ferry checkpoint --shell-job --image-path "$IMG" "$ID"
	assert_success
	ferry inspect --format json "$IMG"
	assert_success
	[ "$(jq '[.tasks[0].fds[] | select(.kind == "stdio" and .terminal)] | length' <<<"$output")" -eq 3 ]
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has '--shell-job'
	assert_nothing_left "$ID"
	# With it, the caller's stdio takes the terminal's place.
	ferry restore --shell-job --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	pid=$(container_pid "$ID")
	[[ "$(readlink "/proc/$pid/fd/1")" != /dev/pts/* ]]
}

@test "a task moved out of the container's cgroup cannot be frozen: checkpoint fails with EBUSY and nothing changes" {
	requires_verb checkpoint
	skip_if_runc "moves a task between cgroups behind the runtime's back"
	local unified=/sys/fs/cgroup/unified
	[ -e "$unified/cgroup.procs" ] || unified=/sys/fs/cgroup
	[ -e "$unified/cgroup.procs" ] || skip "no cgroup2 hierarchy to move a task in"
	run_with_children 2
	local pid child home
	pid=$(container_pid "$ID")
	child=$(cut -d' ' -f1 "/proc/$pid/task/$pid/children")
	home=$unified$(sed -n 's/^0:://p' "/proc/$child/cgroup")
	mkdir "$unified/aside-$ID"
	echo "$child" >"$unified/aside-$ID/cgroup.procs"
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has "pid $child is not frozen"
	assert_eq "$(container_status "$ID")" running status
	[ ! -e "$IMG" ]
	# Back where it belongs, it is checkpointed with the rest.
	echo "$child" >"$home/cgroup.procs"
	rmdir "$unified/aside-$ID"
	ferry checkpoint --leave-running --image-path "$IMG" "$ID"
	assert_success
}

@test "restore fails cleanly when a file the processes had open is gone, and works once it is back" {
	requires_verb checkpoint restore
	echo kept >"$BUNDLE/rootfs/tmp/keep"
	set_args /bin/sh -c 'exec 5</tmp/keep; exec /bin/payload sleep'
	run_detached
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	mv "$BUNDLE/rootfs/tmp/keep" "$BUNDLE/rootfs/tmp/keep.away"
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has '/tmp/keep'
	assert_nothing_left "$ID"
	mv "$BUNDLE/rootfs/tmp/keep.away" "$BUNDLE/rootfs/tmp/keep"
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	ferry exec "$ID" /bin/payload cat /proc/1/fd/5
	assert_success
	assert_output_has kept
}

@test "restore --pid-file, --no-pivot, --no-subreaper and --manage-cgroups-mode" {
	requires_verb checkpoint restore
	payload_args sleep
	run_detached
	ferry checkpoint --manage-cgroups-mode soft --image-path "$IMG" "$ID"
	assert_success
	# -no-subreaper with one dash, as containerd's shim passes it
	ferry restore --detach --pid-file "$TEST_DIR/pid" --no-pivot -no-subreaper \
		--manage-cgroups-mode full --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	assert_eq "$(cat "$TEST_DIR/pid")" "$(container_pid "$ID")" "the pid file"
	ferry checkpoint --manage-cgroups-mode sometimes --image-path "$IMG.2" "$ID"
	assert_failure
	assert_output_has 'manage-cgroups-mode'
	assert_eq "$(container_status "$ID")" running status
}

@test "checkpoint and restore flags that are not implemented say so and change nothing" {
	requires_verb checkpoint restore
	skip_if_runc "runc implements them through criu"
	payload_args sleep
	run_detached
	local flag
	for flag in --lazy-pages "--page-server 127.0.0.1:9000" "--status-fd 9"; do
		# shellcheck disable=SC2086 # the flag and its value are two words
		ferry checkpoint $flag --image-path "$IMG" "$ID"
		assert_failure
		assert_output_has 'not supported yet'
		assert_eq "$(container_status "$ID")" running "status after $flag"
		[ ! -e "$IMG" ]
	done
	for flag in --lazy-pages --auto-dedup "--lsm-profile x"; do
		# shellcheck disable=SC2086
		ferry restore $flag --detach --image-path "$IMG" "$ID-new"
		assert_failure
		assert_output_has 'not supported yet'
	done
}

@test "checkpoint of a created container fails and leaves it created" {
	requires_verb checkpoint
	payload_args sleep
	ferry create "$ID"
	assert_success
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_failure
	assert_eq "$(container_status "$ID")" created status
}

@test "checkpoint of a stopped container fails" {
	requires_verb checkpoint
	payload_args exit 0
	ferry run -d "$ID"
	assert_success
	wait_for_state "$ID" stopped
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_failure
	assert_eq "$(container_status "$ID")" stopped status
}

@test "checkpoint of a container that does not exist fails" {
	requires_verb checkpoint
	ferry checkpoint --image-path "$IMG" no-such-container
	assert_failure
	assert_output_has 'no-such-container'
}

@test "restore from a missing image fails and leaves nothing behind" {
	requires_verb restore
	ferry restore --detach --image-path "$TEST_DIR/no-such-dir" "$ID"
	assert_failure
	assert_nothing_left "$ID"
	mkdir "$TEST_DIR/empty"
	ferry restore --detach --image-path "$TEST_DIR/empty" "$ID"
	assert_failure
	assert_nothing_left "$ID"
}

@test "restore from a corrupt image fails and leaves nothing behind" {
	requires_verb checkpoint restore
	checkpointed_container
	local f how n=0
	for how in truncate garbage; do
		n=$((n + 1))
		rm -rf "$IMG.bad"
		cp -a "$IMG" "$IMG.bad"
		for f in "$IMG.bad"/*; do
			[ -f "$f" ] || continue
			case $how in
			truncate) truncate -s "$(($(stat -c %s "$f") / 2))" "$f" ;;
			garbage) head -c "$(stat -c %s "$f")" /dev/urandom >"$f" ;;
			esac
		done
		ferry restore --detach --image-path "$IMG.bad" "$ID-$n"
		assert_failure
		assert_nothing_left "$ID-$n"
	done
	# The good image is still good.
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
}

# The container's processes as its cgroup lists them (the unified one where
# there is one: v2 or the hybrid mirror).
cgroup_procs() {
	local f
	for f in /sys/fs/cgroup/unified/ferry/$1 /sys/fs/cgroup/ferry/$1 /sys/fs/cgroup/pids/ferry/$1; do
		[ -e "$f/cgroup.procs" ] && cat "$f/cgroup.procs" && return 0
	done
	return 0
}

@test "a task killed in the middle of a restore fails it and leaves nothing behind" {
	requires_verb checkpoint restore
	skip_if_runc "kills ferry's restore agents by position in the cgroup"
	# 10 processes with 32 MiB each: restoring them takes long enough to
	# kill one on the way, and they are enough for both tracer threads.
	set_args /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do /bin/payload eat 32 & done; wait'
	run_detached
	eventually '[ "$(children_in_ns | wc -w)" -eq 10 ]'
	eventually '[ "$(grep -c "ate 32 MB" "$CONTAINER_OUT")" -eq 10 ]'
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	"$FERRY" --root "$ROOT" restore --detach --image-path "$IMG" "$ID" \
		>"$TEST_DIR/restore.out" 2>&1 </dev/null &
	local rpid=$! victim=
	for _ in $(seq 2000); do
		victim=$(cgroup_procs "$ID" | sed -n 6p)
		[ -n "$victim" ] && break
		sleep 0.005
	done
	[ -n "$victim" ] || { echo "no sixth process appeared"; false; }
	kill -9 "$victim"
	local rc=0
	wait "$rpid" || rc=$?
	cat "$TEST_DIR/restore.out"
	[ "$rc" -ne 0 ] || { echo "the restore succeeded although pid $victim was killed"; false; }
	grep -q "restore" "$TEST_DIR/restore.out"
	assert_nothing_left "$ID"
	# The images are untouched: a second restore works.
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	assert_eq "$(children_in_ns | wc -w)" 10 "init's children"
}

@test "checkpoint refuses an fd it cannot save and leaves the container running unchanged" {
	requires_verb checkpoint
	# /dev/full: a device ferry does not checkpoint (only null, zero, random
	# and urandom). If that ever changes, pick another kind here.
	set_args /bin/sh -c 'exec 7</dev/full; exec /bin/payload sleep'
	run_detached
	local pid
	pid=$(container_pid "$ID")
	eventually "[ -e /proc/$pid/fd/7 ]"
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has 'fd 7|/dev/full'
	assert_eq "$(container_status "$ID")" running status
	assert_eq "$(container_pid "$ID")" "$pid" pid
	assert_eq "$(readlink "/proc/$pid/fd/7")" /dev/full "fd 7"
	assert_eq "$(awk '/^TracerPid:/ { print $2 }' "/proc/$pid/status")" 0 TracerPid
	[[ "$(awk '/^State:/ { print $2 }' "/proc/$pid/status")" != [tT] ]]
	ferry exec "$ID" /bin/payload echo still here
	assert_success
	# And it can still be stopped and deleted normally.
	ferry kill "$ID" KILL
	assert_success
	wait_for_state "$ID" stopped
}

@test "checkpoint of a tree that fails at its last task leaves every process running untraced" {
	requires_verb checkpoint
	# The process with /dev/full is dumped last, after the others (and
	# after /proc was read ahead for all of them).
	set_args /bin/sh -c '/bin/payload spawn 4 & /bin/payload sleep 7</dev/full & wait'
	run_detached
	eventually '[ "$(ferry_quiet_ps_count)" -eq 7 ]'
	local pids p
	pids=$(ferry_quiet_ps_pids)
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has 'fd 7|/dev/full'
	assert_eq "$(container_status "$ID")" running status
	assert_eq "$(ferry_quiet_ps_pids)" "$pids" "the container's processes"
	for p in $pids; do
		assert_eq "$(awk '/^TracerPid:/ { print $2 }' "/proc/$p/status")" 0 "pid $p's TracerPid"
		[[ "$(awk '/^State:/ { print $2 }' "/proc/$p/status")" != [tT] ]]
	done
	[ ! -e "$IMG/inventory.img" ]
}

@test "stats-dump.json holds the dump's timings and page counts" {
	requires_verb checkpoint
	payload_args eat 8
	run_detached
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	[ -f "$IMG/stats-dump.json" ]
	run_cmd jq -e '[.freezing_time, .frozen_time, .memdump_time, .memwrite_time,
			.pages_scanned, .pages_written] | all(type == "number" and . >= 0)' \
		"$IMG/stats-dump.json"
	assert_success
	run_cmd jq -e '.pages_written <= .pages_scanned and .pages_written >= 2048' "$IMG/stats-dump.json"
	assert_success
}

@test "checkpoint --work-path puts stats-dump.json there too" {
	requires_verb checkpoint
	payload_args sleep
	run_detached
	mkdir "$TEST_DIR/work"
	ferry checkpoint --image-path "$IMG" --work-path "$TEST_DIR/work" "$ID"
	assert_success
	run_cmd jq -e 'has("freezing_time")' "$TEST_DIR/work/stats-dump.json"
	assert_success
}

# One walk of the frozen tree is enough where the kernel counts the
# cgroup's forks and exits (ferry's patch 1: kernel-patches/README.md);
# elsewhere the dump walks until two walks agree.
@test "stats-dump.json counts the tree walks: two without cgroup.tasks.events" {
	requires_verb checkpoint
	skip_if_runc "tree_walks is ferry's own"
	run_with_children 2
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	local want=2
	if "$FERRY" check --format json cgroup-tasks-events |
		jq -e '.checks[0].status == "supported"' >/dev/null; then
		want=1
	fi
	run_cmd jq -e ".tree_walks == $want" "$IMG/stats-dump.json"
	assert_success
}

@test "inspect shows the process tree of an image" {
	requires_verb checkpoint inspect
	skip_if_runc "runc has no inspect (crit is CRIU's)"
	run_with_children 2
	local children
	children=$(children_in_ns)
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success

	ferry inspect "$IMG"
	assert_success
	assert_output_has 'payload'
	local c
	for c in 1 $children; do
		assert_output_has "(^|[^0-9])$c([^0-9]|$)"
	done

	ferry inspect --format json "$IMG"
	assert_success
	run_cmd jq -e . "$FERRY_OUT"
	assert_success
	# Every pid of the tree appears as a number somewhere in the JSON.
	local pids
	pids=$(jq -c '[.. | objects | .pid? | numbers] | sort' "$FERRY_OUT")
	assert_eq "$pids" "$(echo 1 $children | jq -sc 'sort')" "pids in the JSON"
}

@test "pages a forked tree shares are written once, and restore needs the file holding them" {
	requires_verb checkpoint restore inspect
	skip_if_runc "ferry's own image format and stats"
	run_with_children 3
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	local shared written
	shared=$(jq .pages_deduplicated "$IMG/stats-dump.json")
	written=$(jq .pages_written "$IMG/stats-dump.json")
	# Each child still shares pages with pid 1, which wrote them.
	[ "$shared" -ge 3 ] ||
		{ echo "pages_deduplicated $shared, pages_written $written"; false; }
	ferry inspect "$IMG"
	assert_success
	assert_output_has 'shared with another task'

	# The children's shared pages are in pid 1's page file: cut it short
	# and every restore fails, naming it, with nothing left.
	cp -a "$IMG" "$IMG.cut"
	truncate -s 8192 "$IMG.cut/pages-1.img"
	ferry restore --detach --image-path "$IMG.cut" "$ID-cut"
	assert_failure
	assert_output_has 'pages-1.img'
	assert_nothing_left "$ID-cut"
	ferry inspect "$IMG.cut"
	assert_failure
	assert_output_has 'pages-1.img'

	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	eventually '[ "$(children_in_ns | wc -w)" -eq 3 ]'
}

@test "a task's pages go to two page files, and restore needs both" {
	requires_verb checkpoint restore inspect
	skip_if_runc "ferry's own image format"
	payload_args eat 32
	run_detached
	wait_for_output "$CONTAINER_OUT" 'ate 32 MB'
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	# 32 MiB through the pipes: about half in each file
	local a b
	a=$(stat -c %s "$IMG/pages-1.img")
	b=$(stat -c %s "$IMG/pages-1.1.img")
	[ "$a" -gt $((8 << 20)) ] && [ "$b" -gt $((8 << 20)) ] ||
		{ echo "page files of $a and $b bytes"; false; }
	ferry inspect "$IMG"
	assert_success
	assert_output_has 'pages-1.img and pages-1.1.img'

	cp -a "$IMG" "$IMG.cut"
	truncate -s $((b / 2)) "$IMG.cut/pages-1.1.img"
	ferry restore --detach --image-path "$IMG.cut" "$ID-cut"
	assert_failure
	assert_output_has 'pages-1.1.img'
	assert_nothing_left "$ID-cut"
	ferry inspect "$IMG.cut"
	assert_failure
	assert_output_has 'pages-1.1.img'

	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
}

@test "inspect of a corrupt image fails with a message" {
	requires_verb inspect
	skip_if_runc "runc has no inspect"
	mkdir "$IMG"
	head -c 4096 /dev/urandom >"$IMG/inventory.img"
	ferry inspect "$IMG"
	assert_failure
	[ -n "$output" ]
}

@test "checkpoint --leave-running of a paused container leaves it paused" {
	set_args /bin/payload sleep
	ferry run -d "$ID"
	assert_success
	ferry pause "$ID"
	assert_success
	ferry checkpoint --leave-running --image-path "$TEST_DIR/img-paused" "$ID"
	assert_success
	[ -e "$TEST_DIR/img-paused/inventory.img" ]
	ferry state "$ID"
	assert_eq "$(jq -r .status <<<"$output")" paused "status after checkpoint"
	ferry resume "$ID"
	assert_success
	wait_for_state "$ID" running
}

@test "checkpoint with the PPid tree walk (FERRY_FORCE_PPID_WALK=1) keeps the whole tree" {
	set_args /bin/sh -c '/bin/payload sleep & /bin/payload sleep & (/bin/payload sleep &) ; wait'
	ferry run -d "$ID"
	assert_success
	eventually '[ "$(ferry_quiet_ps_count)" -ge 4 ]'
	local before
	before=$(ferry_quiet_ps_count)
	FERRY_FORCE_PPID_WALK=1 ferry checkpoint --image-path "$TEST_DIR/img-ppid" "$ID"
	assert_success
	ferry restore --detach --image-path "$TEST_DIR/img-ppid" "$ID"
	assert_success
	wait_for_state "$ID" running
	assert_eq "$(ferry_quiet_ps_count)" "$before" "processes after restore"
}

ferry_quiet_ps_count() {
	"$FERRY" --root "$ROOT" ps -f json "$ID" 2>/dev/null | jq length
}

# The container's host pids, sorted, one line.
ferry_quiet_ps_pids() {
	"$FERRY" --root "$ROOT" ps -f json "$ID" 2>/dev/null | jq -r 'sort | map(tostring) | join(" ")'
}

# --ext-unix-sk: a peer outside the container, reachable from inside by its
# own path. outside_peer KIND [REPLY]: `payload unix-listen` on the host binds
# $EXT/peer in a directory the container bind-mounts at the same path (as a
# host's /dev/log is), printing what it receives to $PEER_LOG.
outside_peer() {
	EXT=$TEST_DIR/ext
	PEER_LOG=$TEST_DIR/peer.log
	mkdir -p "$EXT"
	update_config ".mounts += [{destination: \"$EXT\", type: \"bind\", source: \"$EXT\", options: [\"rbind\"]}]"
	"$PAYLOAD" unix-listen "$1" "$EXT/peer" "${@:2}" >"$PEER_LOG" 2>&1 &
	PEER_PID=$!
	track_background "$PEER_PID"
	wait_for_output "$PEER_LOG" '^listening$'
}

# The container's process: connected to the peer outside, says hello.
run_outside_client() {
	payload_args unix-send "$@"
	run_detached
	wait_for_output "$PEER_LOG" '^hello$'
}

# Signal the client and wait for the peer to receive "signal N".
signal_reaches_peer() {
	ferry kill "$ID" USR1
	assert_success
	wait_for_output "$PEER_LOG" "^signal $1\$"
}

@test "checkpoint --ext-unix-sk: a datagram socket connected outside is connected again at restore" {
	requires_verb checkpoint restore
	outside_peer dgram
	run_outside_client dgram "$EXT/peer"
	signal_reaches_peer 1
	ferry checkpoint --ext-unix-sk --image-path "$IMG" "$ID"
	assert_success
	# The image needs the flag at restore too, as with runc and CRIU.
	ferry restore --detach --image-path "$IMG" "$ID-noflag"
	assert_failure
	assert_output_has "connected to '$EXT/peer' outside the checkpoint: restore with --ext-unix-sk"
	assert_nothing_left "$ID-noflag"
	ferry restore --detach --ext-unix-sk --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	signal_reaches_peer 2
	# And once more, from the restored container.
	ferry checkpoint --ext-unix-sk --image-path "$TEST_DIR/img2" "$ID"
	assert_success
	ferry restore --detach --ext-unix-sk --image-path "$TEST_DIR/img2" "$ID"
	assert_success
	wait_for_state "$ID" running
	signal_reaches_peer 3
	if ! is_runc; then
		ferry inspect "$IMG"
		assert_success
		assert_output_has 'outside the checkpoint'
		assert_output_has "$EXT/peer"
	fi
}

@test "checkpoint without --ext-unix-sk refuses a socket connected outside and leaves the container running" {
	requires_verb checkpoint
	outside_peer dgram
	run_outside_client dgram "$EXT/peer"
	local pid
	pid=$(container_pid "$ID")
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has "fd [0-9]+: unix dgram socket connected to '$EXT/peer' outside the checkpoint"
	assert_output_has 'ext-unix-sk, which allows datagram ones'
	assert_eq "$(container_status "$ID")" running status
	assert_eq "$(container_pid "$ID")" "$pid" pid
	signal_reaches_peer 1
}

@test "checkpoint --ext-unix-sk refuses a stream connection to a listener outside" {
	requires_verb checkpoint
	outside_peer stream
	run_outside_client stream "$EXT/peer"
	ferry checkpoint --ext-unix-sk --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has "fd [0-9]+: unix stream connection to '$EXT/peer' outside the checkpoint .*cannot be re-established"
	assert_eq "$(container_status "$ID")" running status
	signal_reaches_peer 1
}

@test "checkpoint refuses a stream connection an outside listener has not accepted yet" {
	requires_verb checkpoint
	outside_peer stream-backlog
	payload_args unix-send stream "$EXT/peer"
	run_detached
	wait_for_output "$CONTAINER_OUT" '^connected$'
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has "unix stream socket connected to '$EXT/peer' outside the checkpoint \(not accepted yet\): .*ext-unix-sk"
	ferry checkpoint --ext-unix-sk --image-path "$IMG-2" "$ID"
	assert_failure
	assert_output_has "unix stream connection to '$EXT/peer' outside the checkpoint \(not accepted yet\): it cannot be re-established"
	assert_eq "$(container_status "$ID")" running status
}

@test "checkpoint --ext-unix-sk refuses datagrams queued from outside, naming the fd" {
	requires_verb checkpoint
	# The peer answers "pong" to the client, bound to a name both sides see.
	outside_peer dgram pong
	run_outside_client dgram "$EXT/peer" "$EXT/client"
	ferry checkpoint --ext-unix-sk --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has 'pid [0-9]+ fd [0-9]+: 1 message\(s\), 4 bytes, wait in the receive queue'
	assert_eq "$(container_status "$ID")" running status
	signal_reaches_peer 1
}

@test "checkpoint --ext-unix-sk refuses a peer whose name leads elsewhere inside the container" {
	requires_verb checkpoint
	# Bound outside as $TEST_DIR/other/peer, seen inside as /other/peer only.
	EXT=$TEST_DIR/other
	PEER_LOG=$TEST_DIR/peer.log
	mkdir -p "$EXT"
	update_config ".mounts += [{destination: \"/other\", type: \"bind\", source: \"$EXT\", options: [\"rbind\"]}]"
	"$PAYLOAD" unix-listen dgram "$EXT/peer" >"$PEER_LOG" 2>&1 &
	track_background $!
	wait_for_output "$PEER_LOG" '^listening$'
	run_outside_client dgram /other/peer
	ferry checkpoint --ext-unix-sk --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has "'$EXT/peer', cannot be reached from inside the container"
	assert_eq "$(container_status "$ID")" running status
}

@test "checkpoint --ext-unix-sk refuses a peer whose path now names another socket" {
	requires_verb checkpoint
	outside_peer dgram
	run_outside_client dgram "$EXT/peer"
	# A second peer takes the path; the client stays with the first.
	mv "$EXT/peer" "$EXT/peer.old"
	"$PAYLOAD" unix-listen dgram "$EXT/peer" >"$TEST_DIR/peer2.log" 2>&1 &
	track_background $!
	wait_for_output "$TEST_DIR/peer2.log" '^listening$'
	ferry checkpoint --ext-unix-sk --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has "'$EXT/peer' leads to another socket inside the container than the peer outside"
	assert_eq "$(container_status "$ID")" running status
	signal_reaches_peer 1
}

@test "checkpoint --ext-unix-sk refuses a peer outside with an abstract name" {
	requires_verb checkpoint
	# Sharing the host's network namespace makes the abstract name reachable.
	update_config '.linux.namespaces |= map(select(.type != "network"))'
	PEER_LOG=$TEST_DIR/peer.log
	local name=ferry-bats-$$-$BATS_TEST_NUMBER
	"$PAYLOAD" unix-listen dgram "@$name" >"$PEER_LOG" 2>&1 &
	track_background $!
	wait_for_output "$PEER_LOG" '^listening$'
	run_outside_client dgram "@$name"
	ferry checkpoint --ext-unix-sk --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has "connected to '@$name' outside the checkpoint .*an abstract name"
	assert_eq "$(container_status "$ID")" running status
}

@test "restore --ext-unix-sk fails cleanly when the peer outside is gone" {
	requires_verb checkpoint restore
	outside_peer dgram
	run_outside_client dgram "$EXT/peer"
	ferry checkpoint --ext-unix-sk --image-path "$IMG" "$ID"
	assert_success
	kill -9 "$PEER_PID"
	rm -f "$EXT/peer"
	ferry restore --detach --ext-unix-sk --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has "unix dgram socket [0-9]+, connected to '$EXT/peer' outside the checkpoint: connect to '$EXT/peer': No such file or directory"
	assert_nothing_left "$ID"
}

# A terminal container (process.terminal, a 40x100 console) running a shell,
# its pty master with `payload recvtty` on console socket tty-1.sock: typed
# into through the FIFO in-1, what it shows in tty-1.out. Proves the shell
# answers before anything else happens.
terminal_shell() {
	update_config '.process.terminal = true | .process.consoleSize = {"height": 40, "width": 100}'
	set_args /bin/sh
	start_recvtty -i "$TEST_DIR/in-1" "$TEST_DIR/tty-1.sock" "$TEST_DIR/tty-1.out"
	RECVTTY_1=$!
	ferry run -d --console-socket "$TEST_DIR/tty-1.sock" "$ID"
	assert_success
	# the quotes keep the typed line (echoed by the tty) from matching
	tty_send "$TEST_DIR/in-1" 'echo hel""lo-1\n'
	wait_for_output "$TEST_DIR/tty-1.out" '^hello-1'
}

# restore_with_terminal N [ID]: restore $IMG as ID (default $ID) with a new
# receiver on console socket tty-N.sock (FIFO in-N, output tty-N.out).
restore_with_terminal() {
	local n=$1 id=${2:-$ID}
	start_recvtty -i "$TEST_DIR/in-$n" "$TEST_DIR/tty-$n.sock" "$TEST_DIR/tty-$n.out"
	ferry restore --detach --console-socket "$TEST_DIR/tty-$n.sock" --image-path "$IMG" "$id"
	assert_success
	assert_eq "$(container_status "$id")" running "status of $id after restore"
}

# What tty-N.out holds, without the tty's \r, in $output.
terminal_output() {
	run_cmd tr -d '\r' <"$TEST_DIR/tty-$1.out"
}

@test "restore --console-socket gives a terminal container a new pty, and its shell answers there" {
	requires_verb checkpoint restore
	terminal_shell
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	ferry state "$ID"
	assert_failure
	# The old pty lost its last slave: its holder saw the end.
	eventually "pid_gone $RECVTTY_1"
	restore_with_terminal 2
	tty_send "$TEST_DIR/in-2" 'echo hel""lo\n'
	wait_for_output "$TEST_DIR/tty-2.out" '^hello'
	# The process's stdio, the window size and /dev/console are the new pty.
	tty_send "$TEST_DIR/in-2" '/bin/payload tty; /bin/payload stat /dev/console\n'
	wait_for_output "$TEST_DIR/tty-2.out" '^c [0-7]+ [0-9]+ [0-9]+ 136:'
	terminal_output 2
	assert_output_has '^stdin /dev/pts/[0-9]+$'
	assert_output_has '^stdout /dev/pts/[0-9]+$'
	assert_output_has '^size 40 100$'
	assert_output_lacks 'hello-1'
	ferry state "$ID"
	assert_success
	assert_eq "$(jq -r .status <<<"$output")" running status
}

@test "a restored terminal keeps its foreground job: ^C reaches it and the shell takes the terminal back" {
	requires_verb checkpoint restore
	terminal_shell
	# A job control shell runs the command in its own group, in front.
	tty_send "$TEST_DIR/in-1" '/bin/payload sleep\n'
	local pid
	pid=$(container_pid "$ID")
	eventually "[ \"\$(awk '{ print \$8 }' /proc/$pid/stat)\" != $pid ]"
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	restore_with_terminal 2
	pid=$(container_pid "$ID")
	# The shell is the session leader with the new pty as its terminal
	# (tty_nr, field 7), and the job's group is still in front (tpgid).
	[ "$(awk '{ print $7 }' "/proc/$pid/stat")" != 0 ]
	[ "$(awk '{ print $8 }' "/proc/$pid/stat")" != "$pid" ]
	tty_send "$TEST_DIR/in-2" '\003'
	eventually "[ \"\$(awk '{ print \$8 }' /proc/$pid/stat)\" = $pid ]"
	tty_send "$TEST_DIR/in-2" 'echo status $?\n'
	wait_for_output "$TEST_DIR/tty-2.out" '^status 130'
}

@test "checkpoint --leave-running of a terminal container: the original keeps its pty, the copy gets its own" {
	requires_verb checkpoint restore
	terminal_shell
	ferry checkpoint --leave-running --image-path "$IMG" "$ID"
	assert_success
	restore_with_terminal 2 "$ID-copy"
	tty_send "$TEST_DIR/in-1" 'echo orig""inal\n'
	wait_for_output "$TEST_DIR/tty-1.out" '^original'
	tty_send "$TEST_DIR/in-2" 'echo co""py\n'
	wait_for_output "$TEST_DIR/tty-2.out" '^copy'
	terminal_output 2
	assert_output_lacks '^original'
	terminal_output 1
	assert_output_lacks '^copy'
}

@test "restore of a terminal container without --console-socket fails and leaves nothing behind" {
	requires_verb checkpoint restore
	terminal_shell
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_failure
	assert_output_has 'console'
	assert_nothing_left "$ID"
	# The image is intact: with a console socket it restores.
	restore_with_terminal 2
	tty_send "$TEST_DIR/in-2" 'echo hel""lo\n'
	wait_for_output "$TEST_DIR/tty-2.out" '^hello'
}

@test "restore in the foreground relays a terminal container's new pty, as run does" {
	requires_verb checkpoint restore
	skip_if_runc "runc relays a terminal only when its own stdin is one"
	terminal_shell
	ferry checkpoint --image-path "$IMG" "$ID"
	assert_success
	# What ferry reads from its stdin goes to the pty; the shell's exit
	# status is restore's, and the container is gone afterwards.
	ferry restore --image-path "$IMG" "$ID" < <(printf 'echo hel""lo\nexit 3\n')
	assert_status 3
	assert_output_has '^hello'
	ferry state "$ID"
	assert_failure
}
