# Shared by podman.bats and containerd.bats: real container engines driving
# $FERRY, each with its own private state under one temp directory, so
# nothing is written under /etc, /var/lib or /run of the host.
#
# Loaded after helpers.bash (`load helpers; load clients`).

# The image both clients import: hack/mkimage.sh writes rootfs.tar and
# oci-image.tar (the busybox + payload rootfs of hack/mkbundle.sh).
CLIENT_IMAGE=docker.io/library/ferry-test:latest

# make_client_image DIR: build the image into DIR; quiet unless it fails.
make_client_image() {
	FERRY="$FERRY" FERRY_PAYLOAD="$PAYLOAD" "$REPO/hack/mkimage.sh" "$1" "$CLIENT_IMAGE"
}

# Can the client tests run at all? (setup_file must not fail when they cannot:
# setup then skips each test with the reason.)
client_prereqs_ok() {
	[ -x "$FERRY" ] && [ -x "$PAYLOAD" ]
}

# pids_mentioning DIR: processes whose command line contains DIR, such as the
# daemons, shims and conmons a test file started with DIR in their flags.
pids_mentioning() {
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" != "$$" ] && [ "$pid" != "$BASHPID" ] || continue
		tr '\0' ' ' <"$f" 2>/dev/null | grep -qF -- "$1" && echo "$pid"
	done
	return 0
}

# kill_mentioning DIR: SIGKILL them until none is left.
kill_mentioning() {
	local i pids
	for i in $(seq 50); do
		pids=$(pids_mentioning "$1")
		[ -z "$pids" ] && return 0
		kill -9 $pids 2>/dev/null || true
		sleep 0.05
	done
	echo "teardown: processes still alive: $pids" >&2
}

# proc_gone PID: the process has exited (a zombie counts: its parent, maybe
# this very shell, has not reaped it yet).
proc_gone() {
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)
	[ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

# stop_daemon PID: SIGTERM, up to 10 s to exit, then SIGKILL.
stop_daemon() {
	kill -TERM "$1" 2>/dev/null || return 0
	retry 200 0.05 proc_gone "$1" 2>/dev/null || kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# remove_cgroup_tree NAME: rmdir, deepest first, every cgroup at or below a
# top-level cgroup named NAME in every hierarchy (cgroup v1 and v2).
remove_cgroup_tree() {
	local name=$1 i d left
	[ -n "$name" ] && [ -d /sys/fs/cgroup ] || return 0
	for i in $(seq 40); do
		left=0
		while IFS= read -r d; do
			rmdir "$d" 2>/dev/null || left=1
		done < <(find /sys/fs/cgroup -maxdepth 3 -type d -name "$name" \
			-exec find {} -depth -type d \; 2>/dev/null)
		[ $left -eq 0 ] && return 0
		sleep 0.05
	done
	echo "teardown: cgroups left behind under $name" >&2
}

# assert_no_mounts_under DIR: nothing the clients mounted is left in our view.
assert_no_mounts_under() {
	local m
	m=$(awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo)
	if [ -n "$m" ]; then
		echo "still mounted under $1:" >&2
		echo "$m" >&2
		return 1
	fi
}
