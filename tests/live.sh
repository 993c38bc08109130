#!/usr/bin/env bash
# The live tests (`#[ignore = "live: ..."]`) of every test binary of one build, run
# LIVE_JOBS binaries at a time, the longest first. The default is 1: most of their time is
# spent waiting on the services, so LIVE_JOBS=2 takes little more than the longer binary,
# but on two cores the timing-sensitive tests (kills, rebalances, a terminal) get flaky.
# Each binary's output is printed whole
# when it ends; the exit status is non-zero when any binary failed. Durations are kept in
# $LAKEPIPE_CACHE/live-times.tsv to order the next run (without it: most tests first).
#
# usage: tests/live.sh CARGO_TEST_COMMAND...   (the same command and flags as the build)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${LIVE_JOBS:-1}
TIMES="${LAKEPIPE_CACHE:-$HOME/.cache/lakepipe}/live-times.tsv"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# executable, package folder and name of every test binary (already built: no compiling)
"$@" --no-run --message-format=json 2>/dev/null |
  jq -r 'select(.reason == "compiler-artifact" and .profile.test and .executable != null)
         | [.executable, (.manifest_path | rtrimstr("/Cargo.toml")), .target.name] | @tsv' >"$OUT/bins"

# the binaries with live tests, each with its last duration (else a guess from its count)
: >"$OUT/queue"
while IFS=$'\t' read -r exe dir name; do
  # a binary that cannot list its tests (a crash, a missing library) fails the run: its
  # live tests would otherwise be skipped without a word
  if ! list=$(cd "$dir" && "$exe" --list --ignored --format terse 2>"$OUT/list.err"); then
    echo "tests/live.sh: cannot list the tests of $exe:" >&2
    cat "$OUT/list.err" >&2
    exit 1
  fi
  n=$(grep -c ': test$' <<<"$list" || true)
  ((n > 0)) || continue
  key="$(basename "$dir")/$name"
  secs=$(awk -F'\t' -v k="$key" '$1 == k { s = $2 } END { print s + 0 }' "$TIMES" 2>/dev/null || echo 0)
  ((secs > 0)) || secs=$((n * 10))
  printf '%s\t%s\t%s\t%s\n' "$secs" "$key" "$exe" "$dir" >>"$OUT/queue"
done <"$OUT/bins"
sort -t$'\t' -k1,1nr -o "$OUT/queue" "$OUT/queue"
echo "live test binaries, $JOBS at a time: $(cut -f2 "$OUT/queue" | tr '\n' ' ')"

# one binary: its output in a file, then printed whole with its status and duration
run_one() {
  local key=$1 exe=$2 dir=$3 log t0=$SECONDS rc=0
  log="$OUT/$(tr / _ <<<"$key").log"
  # as cargo test runs it: from its package folder
  (cd "$dir" && CARGO_MANIFEST_DIR="$dir" "$exe" --ignored) >"$log" 2>&1 || rc=$?
  {
    echo "---- $key: exit $rc after $((SECONDS - t0))s"
    cat "$log"
  } | flock "$OUT/bins" cat
  printf '%s\t%s\t%s\n' "$key" "$((SECONDS - t0))" "$rc" >>"$OUT/done"
}
: >"$OUT/done"
while IFS=$'\t' read -r _ key exe dir; do
  while (($(jobs -rp | wc -l) >= JOBS)); do wait -n || true; done
  run_one "$key" "$exe" "$dir" &
done <"$OUT/queue"
wait

echo "---- live test binaries (seconds, exit status):"
sort -t$'\t' -k2,2nr "$OUT/done" | awk -F'\t' '{ printf "  %-28s %5ss  exit %s\n", $1, $2, $3 }'
mkdir -p "$(dirname "$TIMES")"
cut -f1,2 "$OUT/done" >"$TIMES"
! awk -F'\t' '$3 != 0 { bad = 1 } END { exit !bad }' "$OUT/done"
