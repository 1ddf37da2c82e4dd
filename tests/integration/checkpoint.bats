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

# A running container (payload spawn 2: init with two sleeping children),
# checkpointed into $IMG.
checkpointed_container() {
	payload_args spawn 2
	run_detached
	eventually '[ "$(children_in_ns | wc -w)" -eq 2 ]'
	CHILDREN=$(children_in_ns)
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
	payload_args spawn 2
	run_detached
	eventually '[ "$(children_in_ns | wc -w)" -eq 2 ]'
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
	payload_args spawn 2
	run_detached
	eventually '[ "$(children_in_ns | wc -w)" -eq 2 ]'
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
	payload_args spawn 2
	run_detached
	eventually '[ "$(children_in_ns | wc -w)" -eq 2 ]'
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
	payload_args spawn 2
	run_detached
	eventually '[ "$(children_in_ns | wc -w)" -eq 2 ]'
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
	ferry restore --detach --image-path "$IMG" "$ID"
	assert_success
	wait_for_state "$ID" running
	assert_eq "$(children_in_ns)" "$children" "init's children"
	ferry exec "$ID" /bin/payload echo still here
	assert_success
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
	# pre-1 is not the last: pages written since pre-2 would be missed.
	ferry checkpoint --image-path "$IMG" --parent-path ../pre-1 "$ID"
	assert_success
	assert_output_has 'not the last dump'
	assert_eq "$(jq .pages_in_parent "$IMG/stats-dump.json")" 0 pages_in_parent
	[ ! -e "$IMG/parent" ]
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
	payload_args spawn 2
	run_detached
	eventually '[ "$(children_in_ns | wc -w)" -eq 2 ]'
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
	payload_args spawn 2
	run_detached
	eventually '[ "$(children_in_ns | wc -w)" -eq 2 ]'
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
	payload_args spawn 2
	run_detached
	eventually '[ "$(children_in_ns | wc -w)" -eq 2 ]'
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
