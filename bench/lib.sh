# shellcheck shell=bash
# Shared helpers for bench/*.sh: data generation, timing with peak RSS, ratio reports.
# Timings are reported, never asserted: the machines are noisy.
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
BIN=${BIN:-$ROOT/target/release}
BIN=$(cd "$BIN" && pwd)
DATA=${LAKEPIPE_BENCH_DATA:-${LAKEPIPE_CACHE:-$HOME/.cache/lakepipe}/bench}
OUT=$ROOT/bench/out
mkdir -p "$DATA" "$OUT"
RESULTS=$OUT/results.tsv

# events N: path of a generated file of N lab events (made once, cached)
events() {
  local n=$1 f=$DATA/events-$1.jsonl
  if [[ ! -s $f ]]; then
    python3 "$BENCH_DIR/gen_events.py" "$n" >"$f.tmp"
    mv -f "$f.tmp" "$f"
  fi
  echo "$f"
}

# needs_python: the venv with pyarrow, duckdb, polars (installed by services/up.sh)
needs_python() {
  if [[ -z ${LAKEPIPE_PYTHON:-} ]]; then
    [[ -f $ROOT/services/.state/env.sh ]] || bash "$ROOT/services/up.sh" spark >&2
    # shellcheck disable=SC1091
    source "$ROOT/services/.state/env.sh"
  fi
  [[ -n ${LAKEPIPE_PYTHON:-} ]] || { echo "bench: no LAKEPIPE_PYTHON; run make services-up" >&2; exit 1; }
}

# measure GROUP TOOL CMD...: run CMD (a shell string) $REPEAT times (default 1), record the
# median wall s and the largest peak RSS MB. Sub-second commands want REPEAT=5: one run of
# them measures the machine's noise more than the tool.
measure() {
  local group=$1 tool=$2 cmd=$3 t i walls=() rss_max=0 wall rss
  t=$(mktemp)
  for ((i = 0; i < ${REPEAT:-1}; i++)); do
    if ! /usr/bin/time -f '%e %M' -o "$t" bash -c "$cmd" >/dev/null 2>"$t.err"; then
      echo "bench: $tool failed: $(tail -3 "$t.err")" >&2
      printf '%s\t%s\tFAILED\t-\n' "$group" "$tool" >>"$RESULTS"
      rm -f "$t" "$t.err"
      return 0
    fi
    read -r wall rss <"$t"
    walls+=("$wall")
    ((rss > rss_max)) && rss_max=$rss
  done
  wall=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{ w[NR] = $1 } END { print w[int((NR + 1) / 2)] }')
  printf '%s\t%s\t%s\t%s\n' "$group" "$tool" "$wall" "$((rss_max / 1024))" >>"$RESULTS"
  printf '  %-28s %8.2f s %8d MB%s\n' "$tool" "$wall" "$((rss_max / 1024))" "$( ((${REPEAT:-1} > 1)) && echo "   (median of ${REPEAT})")"
  rm -f "$t" "$t.err"
}

# measure_rr GROUP ROUNDS TOOL CMD [TOOL CMD...]: like measure, but the tools take turns
# (A B A B ...) for ROUNDS rounds, so a slow spell of the machine or a shared service (a
# broker's GC, a log roll) falls on every tool instead of on one tool's block of runs.
# Also records the median CPU seconds (user + sys) of CMD: robust to a busy machine.
# With PIPE_OUT set, CMD's stdout goes through a pipe to it (CMD alone is measured).
run_timed() {
  if [[ -n ${PIPE_OUT:-} ]]; then
    /usr/bin/time -f '%e %M %U %S' -o "$1" bash -c "$2" 2>"$1.err" | bash -c "$PIPE_OUT"
  else
    /usr/bin/time -f '%e %M %U %S' -o "$1" bash -c "$2" >/dev/null 2>"$1.err"
  fi
}
median() { sort -g | awk '{ w[NR] = $1 } END { print w[int((NR + 1) / 2)] }'; }
measure_rr() {
  local group=$1 rounds=$2 t i k n wall rss usr sys
  shift 2
  local -a tools=() cmds=() walls=() cpus=() rss_max=()
  while (($#)); do tools+=("$1") cmds+=("$2") && shift 2; done
  n=${#tools[@]}
  t=$(mktemp)
  for ((i = 0; i < rounds; i++)); do
    for ((k = 0; k < n; k++)); do
      if ! run_timed "$t" "${cmds[k]}"; then
        echo "bench: ${tools[k]} failed: $(tail -3 "$t.err")" >&2
        walls[k]=FAILED
        continue
      fi
      read -r wall rss usr sys <"$t"
      [[ ${walls[k]:-} == FAILED ]] || walls[k]="${walls[k]:-} $wall"
      cpus[k]="${cpus[k]:-} $(awk -v u="$usr" -v s="$sys" 'BEGIN { print u + s }')"
      ((rss > ${rss_max[k]:-0})) && rss_max[k]=$rss
    done
  done
  for ((k = 0; k < n; k++)); do
    if [[ ${walls[k]} == FAILED ]]; then
      printf '%s\t%s\tFAILED\t-\n' "$group" "${tools[k]}" >>"$RESULTS"
      continue
    fi
    wall=$(printf '%s\n' ${walls[k]} | median)
    cpu=$(printf '%s\n' ${cpus[k]} | median)
    printf '%s\t%s\t%s\t%s\t%s\n' "$group" "${tools[k]}" "$wall" "$((rss_max[k] / 1024))" "$cpu" >>"$RESULTS"
    printf '  %-28s %8.2f s %8d MB  cpu %6.2f s   (median of %d, taking turns; all: %s; cpu: %s)\n' "${tools[k]}" "$wall" "$((rss_max[k] / 1024))" "$cpu" "$rounds" "${walls[k]# }" "${cpus[k]# }"
  done
  rm -f "$t" "$t.err"
}

# report GROUP OURS ROWS: ratios of our tool against every peer in GROUP
report() {
  local group=$1 ours=$2 rows=$3
  awk -F'\t' -v g="$group" -v o="$ours" -v rows="$rows" '
    $1 == g && $3 != "FAILED" { wall[$2] = $3; rss[$2] = $4; cpu[$2] = $5; order[n++] = $2 }
    END {
      if (!(o in wall)) { print "  (no result for " o ")"; exit }
      for (i = 0; i < n; i++) {
        t = order[i]
        printf "  %-28s %10.0f rows/s  peak %5d MB", t, rows / wall[t], rss[t]
        if (cpu[t] != "") printf "  cpu %6.2f s", cpu[t]
        if (t != o) printf "   %s is %.2fx its speed", o, wall[t] / wall[o]
        if (t != o && cpu[t] != "" && cpu[o] > 0) printf ", uses %.2fx its CPU", cpu[o] / cpu[t]
        printf "\n"
      }
    }' "$RESULTS"
}
