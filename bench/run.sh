#!/usr/bin/env bash
# make bench: lakepipe and its peers on the same generated data in the same run.
# BENCH_ROWS (default 1000000) lab events; BENCH_ONLY="parquet jq kcat presto shell hdfs stream queryable stream-spark compact"
# to pick sections (compact: BENCH_COMPACT_FILES, default 10000).
source "$(dirname "$0")/lib.sh"
: >"$RESULTS"
ONLY=${BENCH_ONLY:-parquet jq kcat presto shell hdfs stream queryable stream-spark compact}
for section in $ONLY; do
  bash "$BENCH_DIR/$section.sh"
done
echo "results: $RESULTS"
