#!/usr/bin/env bash
# Produce to queryable in Trino: a paced stream (one partition, BENCH_Q_RATE
# events/s for BENCH_Q_SECS s) through `kcat-lite -G --resume-from | pq-write
# --exactly-once --roll-secs 10 --metastore`, which registers as it commits (no
# hive-ddl); Trino is polled every 0.5 s. Reports p50 and p95 of (first poll that counts
# the event - its send time): about half a roll plus the commit and the poll.
source "$(dirname "$0")/lib.sh"
if [[ -z ${KAFKA_BROKERS:-} || -z ${HIVE_METASTORE:-} || -z ${PRESTO_SERVER:-} ]]; then
  bash "$ROOT/services/up.sh" kafka hdfs metastore trino >&2
  # shellcheck disable=SC1091
  source "$ROOT/services/.state/env.sh"
fi
RATE=${BENCH_Q_RATE:-20} SECS=${BENCH_Q_SECS:-60}
RUN=bench-q-$(date +%s)-$$
DB=bench_q_$$
LAKE=$HDFS_NAMENODE/tmp/$RUN/
"$BIN/kcat-lite" -b "$KAFKA_BROKERS" -q --create-topic "$RUN" --partitions 1
echo "== produce to queryable in Trino: $RATE events/s for ${SECS}s, --roll-secs 10"
read -r p50 p95 max n s50 s95 < <(python3 "$BENCH_DIR/queryable.py" "$BIN" "$RUN" "$LAKE" "$DB" "$RATE" "$SECS")
printf 'queryable\tp50 produce to Trino (s)\t%s\t-\n' "$p50" >>"$RESULTS"
printf 'queryable\tp95 produce to Trino (s)\t%s\t-\n' "$p95" >>"$RESULTS"
printf 'queryable\tp95 produce to the start of the counting query (s)\t%s\t-\n' "$s95" >>"$RESULTS"
printf '  %d events: p50 %.1f s, p95 %.1f s, max %.1f s (at the end of the query that first counts an event;\n' "$n" "$p50" "$p95" "$max"
printf '  at its start: p50 %.1f s, p95 %.1f s)\n' "$s50" "$s95"
"$BIN/presto-q" -q "DROP TABLE IF EXISTS hive.$DB.${RUN//-/_}" >/dev/null || true
"$BIN/presto-q" -q "DROP SCHEMA IF EXISTS hive.$DB" >/dev/null || true
"$LAKEPIPE_HDFS_DFS" -rm -r -f -skipTrash "$LAKE" >/dev/null || true
"$BIN/kcat-lite" -b "$KAFKA_BROKERS" -q --delete-topic "$RUN" || true
