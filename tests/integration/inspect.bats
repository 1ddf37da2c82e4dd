#!/usr/bin/env bats
# ferry inspect DIR: what a checkpoint image directory holds (ferry's own
# verb, like checkpointctl inspect; runc has none). The images come from
# `ferry checkpoint --leave-running` of a real container; damaged copies
# must give an error naming the damaged file, with status 1.

load helpers

setup() {
	setup_test
	skip_if_runc "ferry's own verb"
	requires root
	setup_bundle
	IMG=$TEST_DIR/images
}

# A shell holding two regular files (one append-only, written to) and
# ignoring SIGUSR1, with two payload children: one that dirtied 2 MiB.
checkpoint_busy_container() {
	set_args /bin/sh -c 'exec 3</etc/passwd 4>>/dev/shm/inspect.log; echo hello >&4
		trap "" USR1; /bin/payload eat 2 & /bin/payload sleep & wait'
	run_detached
	wait_for_output "$CONTAINER_OUT" "ate 2 MB"
	eventually '[ "$(ferry_ps_count)" = 3 ]'
	ferry checkpoint --leave-running --image-path "$IMG" "$ID"
	assert_success
}

# A child of process $1 has exited and is not reaped yet.
has_zombie_child() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(awk '{ print $3 }' /proc/"$c"/stat 2>/dev/null)" = Z ] && return 0
	done
	return 1
}

ferry_ps_count() {
	timeout 10 "$FERRY" --root "$ROOT" ps --format json "$ID" | jq length
}

# json_of: ferry inspect --format json $IMG into $JSON (a file).
json_of() {
	ferry inspect --format json "$IMG"
	assert_success
	JSON=$TEST_DIR/inspect.json
	printf '%s\n' "$output" >"$JSON"
}

# The first image file matching a glob, e.g. first_image 'mm-*.img'.
first_image() {
	local f
	for f in "$IMG"/$1; do
		basename "$f"
		return
	done
}

# assert_names_file FILE: inspect failed with status 1 and said which file.
assert_names_file() {
	assert_status 1
	assert_output_has "'?$1'?"
	assert_output_lacks 'Process tree'
}

@test "inspect shows the container's processes, their memory and their fds" {
	checkpoint_busy_container
	ferry inspect "$IMG"
	assert_success
	assert_output_has "^$IMG: 3 processes, 3 threads"
	assert_output_has '^Process tree'
	assert_output_has '^  [0-9]+ sh  \(pgid [0-9]+, sid [0-9]+, 1 thread\)'
	assert_output_has '^  [|`]-- [0-9]+ payload  \('
	[ "$(grep -cE '^  [|`]-- [0-9]+ payload' <<<"$output")" = 2 ]
	assert_output_has '^Task [0-9]+ sh$'
	assert_output_has '^  memory: [0-9]+ mappings, [0-9]+ pages in pages-[0-9]+\.img \([0-9.]+ MiB\), exe /bin/sh'
	# the payload that ate 2 MiB has at least 512 pages in its page file
	assert_output_has '^  memory: .*, (5[1-9][0-9]|[6-9][0-9]{2}|[0-9]{4,}) pages in .*exe /bin/payload'
	assert_output_has '^    0x[0-9a-f]+-0x[0-9a-f]+ +r-xp file-private +[0-9]+ pages? +/bin/payload'
	assert_output_has '\[stack\]$'
	assert_output_has '^ +3 file +/etc/passwd  O_RDONLY'
	assert_output_has '^ +4 file +/dev/shm/inspect.log  O_WRONLY\|O_APPEND.*offset 6'
	assert_output_has "^ +1 stdio +the restoring caller's stdout"
	assert_output_has '^  signals: [0-9]+ handlers set \(.*SIGUSR1=ignore.*\), blocked 0x[0-9a-f]+, 0 pending'
	assert_output_has '^  identity: uid 0/0/0/0 gid 0/0/0/0'
	assert_output_has '^  dump: .*pages_written [0-9]+'
	assert_output_has '^  this machine: can restore it'
}

@test "inspect --format json has the expected keys and one task per process" {
	checkpoint_busy_container
	json_of
	run_cmd jq -e . "$JSON"
	assert_success
	local pids root
	pids=$(ferry_ps_count)
	[ "$(jq '.tasks | length' "$JSON")" = "$pids" ]
	root=$(jq .inventory.root_pid "$JSON")
	# ferry's own pid namespace view or the container's (pid 1)
	[ "$root" = "$(container_pid "$ID")" ] || [ "$root" = 1 ]
	[ "$(jq .tasks[0].pid "$JSON")" = "$root" ]
	run_cmd jq -e '(.inventory | has("kernel") and has("xstate_size") and has("this_machine"))
		and (.stats_dump.pages_written > 0) and (has("stats_restore") | not)' "$JSON"
	assert_success
	run_cmd jq -e 'all(.tasks[]; has("pid") and has("ppid") and has("pgid") and has("sid")
		and .state == "live" and (.threads | length) == .nr_threads and has("comm")
		and (.memory.vmas | length) > 0 and .memory.pages > 0 and has("fds")
		and (.signals | has("handlers") and has("pending")) and has("identity"))' "$JSON"
	assert_success
	# every child names a task of the image as its parent
	run_cmd jq -e '[.tasks[].pid] as $p | all(.tasks[1:][]; .ppid as $x | $p | index($x))' "$JSON"
	assert_success
	run_cmd jq -e '[.tasks[] | select(.comm == "payload") | .memory.pages] | max >= 512' "$JSON"
	assert_success
	run_cmd jq -e '.tasks[0].fds | map(select(.path == "/dev/shm/inspect.log"))[0]
		| .kind == "file" and .offset == 6 and (.flags | test("O_APPEND"))' "$JSON"
	assert_success
	# the three processes share the two files: the same open file, once
	run_cmd jq -e '[.tasks[].fds[] | select(.kind == "file") | .file_id] | unique | length == 2' "$JSON"
	assert_success
}

@test "inspect shows a zombie and its exit status" {
	set_args /bin/sh -c '/bin/sh -c "exit 3" & exec /bin/payload sleep'
	run_detached
	eventually "has_zombie_child $(container_pid "$ID")"
	ferry checkpoint --leave-running --image-path "$IMG" "$ID"
	assert_success
	ferry inspect "$IMG"
	assert_success
	assert_output_has '^  `-- [0-9]+ \(pgid [0-9]+, sid [0-9]+, zombie, exited with 3\)'
	json_of
	run_cmd jq -e '.tasks | length == 2 and .[1].state == "zombie" and .[1].wait_status == 768
		and (.[1] | has("memory") | not)' "$JSON"
	assert_success
}

@test "inspect names the file whose bytes were flipped" {
	checkpoint_busy_container
	local mm
	mm=$(first_image 'mm-*.img')
	# a byte in the middle of the records: the checksum no longer matches
	printf '\xff\xff\xff\xff' | dd of="$IMG/$mm" bs=1 seek=200 conv=notrunc status=none
	ferry inspect "$IMG"
	assert_names_file "$mm"
	assert_output_has "record [0-9]+ .*checksum mismatch"
	ferry inspect --format json "$IMG"
	assert_names_file "$mm"
	[ -z "$(grep -F '{' <<<"$output")" ]
}

@test "inspect names the file that was cut short" {
	checkpoint_busy_container
	local core pagemap size
	core=$(first_image 'core-*.img')
	cp "$IMG/$core" "$TEST_DIR/core.good"
	truncate -s -5 "$IMG/$core"
	ferry inspect "$IMG"
	assert_names_file "$core"
	assert_output_has 'truncated'
	cp "$TEST_DIR/core.good" "$IMG/$core"

	# cut at a record boundary: only the end record (8 + 8 + 4 bytes) is gone
	pagemap=$(first_image 'pagemap-*.img')
	size=$(stat -c %s "$IMG/$pagemap")
	truncate -s $((size - 20)) "$IMG/$pagemap"
	ferry inspect "$IMG"
	assert_names_file "$pagemap"
	assert_output_has 'truncated file \(no end record\)'
}

@test "inspect names a page file one page short, and a missing file" {
	checkpoint_busy_container
	local pages fds
	pages=$(first_image 'pages-*.img')
	truncate -s -4096 "$IMG/$pages"
	ferry inspect "$IMG"
	assert_names_file "$pages"
	assert_output_has 'holds [0-9]+ pages, pagemap-.* lists [0-9]+'
	truncate -s +4096 "$IMG/$pages"
	ferry inspect "$IMG"
	assert_success

	fds=$(first_image 'fds-*.img')
	rm "$IMG/$fds"
	ferry inspect "$IMG"
	assert_names_file "$fds"
	assert_output_has 'No such file or directory'
}

@test "inspect names a file of the wrong kind and a damaged header" {
	checkpoint_busy_container
	local misc
	cp "$IMG/inventory.img" "$TEST_DIR/inventory.good"
	cp "$IMG/pstree.img" "$IMG/inventory.img"
	ferry inspect "$IMG"
	assert_names_file inventory.img
	assert_output_has 'holds pstree records, expected inventory'
	cp "$TEST_DIR/inventory.good" "$IMG/inventory.img"

	misc=$(first_image 'misc-*.img')
	printf 'XERRYIMG' | dd of="$IMG/$misc" bs=1 conv=notrunc status=none
	ferry inspect "$IMG"
	assert_names_file "$misc"
	assert_output_has 'not a ferry image \(bad magic\)'
}

@test "inspect reads stats-restore.json when there is one and refuses a broken one" {
	checkpoint_busy_container
	sed 's/"pages_restored": 0/"pages_restored": 42/' "$IMG/stats-dump.json" >"$IMG/stats-restore.json"
	json_of
	[ "$(jq .stats_restore.pages_restored "$JSON")" = 42 ]
	ferry inspect "$IMG"
	assert_success
	assert_output_has '^  restore: .*pages_restored 42'
	echo '{"pages_restored": "many"' >"$IMG/stats-restore.json"
	ferry inspect "$IMG"
	assert_names_file stats-restore.json
}

@test "inspect of a missing directory or a directory without images fails" {
	ferry inspect "$TEST_DIR/nonexistent"
	assert_status 1
	assert_output_has "inspect '$TEST_DIR/nonexistent': open the image directory: No such file or directory"
	mkdir "$TEST_DIR/empty"
	ferry inspect "$TEST_DIR/empty"
	assert_names_file inventory.img
}

@test "inspect checks its arguments" {
	ferry inspect
	assert_failure
	ferry inspect --format yaml "$TEST_DIR"
	assert_failure
	assert_output_has 'invalid format option "yaml" \(text or json\)'
	ferry inspect --help
	assert_success
	assert_output_has '--format'
}
