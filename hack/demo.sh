#!/usr/bin/env bash
# The main job end to end: build a busybox bundle, run a detached container,
# look at it from the outside (state, ps, exec), pause and resume it, delete
# it. Everything lives in a scratch directory that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
FERRY=${FERRY:-$PWD/build/ferry}
scratch=$(mktemp -d /tmp/ferry-demo.XXXXXX)
root=$scratch/root
id=demo-$$

cleanup() {
	"$FERRY" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
	rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

hack/mkbundle.sh "$scratch/bundle" >/dev/null
cd "$scratch/bundle"
# A container that counts seconds, so pause and resume are visible.
jq '.root.readonly = false | .hostname = "ferry-demo" | .process.args = ["/bin/sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/ticks; sleep 0.2; done"]' \
	config.json >config.new && mv config.new config.json

f() { "$FERRY" --root "$root" "$@"; }
step f run -d "$id"
step f state "$id"
echo
step f ps "$id"
step f exec "$id" /bin/payload hostname
step f exec "$id" /bin/sh -c 'echo "inside: pid $$ of $(ls -d /proc/[0-9]* | wc -l) processes"'
step f pause "$id"
before=$(cat "/proc/$(f state "$id" | jq .pid)/root/tmp/ticks")
sleep 1
step f list
paused=$(cat "/proc/$(f state "$id" | jq .pid)/root/tmp/ticks")
step f resume "$id"
sleep 0.6
after=$(f exec "$id" cat /tmp/ticks)
echo "ticks: $before when paused, $paused one second later, $after after resume"
# Checkpoint: the container stops, its processes are written as images.
step f checkpoint --image-path "$scratch/images" "$id"
step f list
step f inspect "$scratch/images"
# Restore: the same processes come back, the counter goes on from where it was.
step f restore --detach --image-path "$scratch/images" "$id"
restored=$(f exec "$id" cat /tmp/ticks)
sleep 0.6
echo "ticks right after restore: $restored; 0.6 s later: $(f exec "$id" cat /tmp/ticks)"
step f state "$id"
echo
step f kill "$id" KILL
sleep 0.2
step f state "$id"
echo
step f delete "$id"
echo
echo "demo: done"
