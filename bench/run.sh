#!/usr/bin/env bash
# make bench: lakepipe and its peers on the same generated data in the same run.
# BENCH_ROWS (default 1000000) lab events; BENCH_ONLY="parquet jq kcat presto shell hdfs stream queryable stream-spark compact"
# to pick sections (compact: BENCH_COMPACT_FILES, default 10000).
source "$(dirname "$0")/lib.sh"
: >"$RESULTS"
ONLY=${BENCH_ONLY:-parquet jq kcat presto shell hdfs stream queryable stream-spark compact}
# the load average before and after each section: the results table notes the machine's load
load() { cut -d' ' -f1-3 /proc/loadavg; }
for section in $ONLY; do
  echo "== section $section: $(date -u +%H:%M:%S) UTC, load average $(load)"
  t0=$SECONDS
  bash "$BENCH_DIR/$section.sh"
  echo "== section $section: $((SECONDS - t0)) s, load average $(load)"
done
echo "results: $RESULTS"
