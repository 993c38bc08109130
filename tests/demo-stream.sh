#!/usr/bin/env bash
# The streaming step of `make demo` (sourced by tests/demo.sh, services up, tools on PATH):
# events produced at a steady pace for about 30 s; the exactly-once pipeline writes
# 10-second Parquet files to HDFS, a table per event type in hourly time folders, each
# registered in the metastore by pq-write as it commits (no hive-ddl); it is killed with
# -9 midway and restarted; Trino counts rows as files land; the final count equals what
# was produced, and stays so after pq-compact merges the small files.
STOPIC=stream_$RUN
SLAKE=$HDFS_NAMENODE/lake/stream_$RUN/
N=30000
GROUP=lake_$RUN

step "kcat-lite -b $KAFKA_BROKERS --create-topic $STOPIC --partitions 3"
kcat-lite -b "$KAFKA_BROKERS" --create-topic "$STOPIC" --partitions 3
python3 bench/gen_events.py $N >"$OUT/stream.jsonl"

step "(paced: 1000 events/s for 30 s) | kcat-lite -b $KAFKA_BROKERS -t $STOPIC -P &"
python3 -c '
import sys, time
lines = open(sys.argv[1]).readlines()
for i in range(0, len(lines), 100):
    sys.stdout.writelines(lines[i:i + 100]); sys.stdout.flush(); time.sleep(0.1)
' "$OUT/stream.jsonl" | kcat-lite -b "$KAFKA_BROKERS" -t "$STOPIC" -P -q &
PRODUCER=$!

# the two stages through a fifo, so each has its own pid to kill
PIPE=$OUT/stream.fifo
start_pipeline() {
  rm -f "$PIPE" && mkfifo "$PIPE"
  kcat-lite -b "$KAFKA_BROKERS" -G "$GROUP" -J --resume-from "$SLAKE" "$@" "$STOPIC" >"$PIPE" &
  KCAT=$!
  pq-write --envelope kcat --kafka-meta --exactly-once --split-by event_type --roll-secs 10 \
    --time-partition hour "$SLAKE" --metastore "$HIVE_METASTORE" --database lab --table "stream_${RUN}_" <"$PIPE" &
  PQ=$!
}
# rows over every type's table (pq-write registered each as it committed)
count() {
  local tables union
  tables=$(presto-q -q --output-format tsv "SHOW TABLES FROM hive.lab LIKE 'stream_${RUN}_%'" 2>/dev/null)
  union=$(printf 'SELECT count(*) AS n FROM hive.lab.%s\n' $tables | sed '2,$s/^/UNION ALL /')
  presto-q -q --output-format tsv "SELECT sum(n) FROM ($union)" 2>/dev/null || echo "?"
}

step "kcat-lite -G $GROUP -J --resume-from $SLAKE $STOPIC | pq-write --envelope kcat --kafka-meta --exactly-once --split-by event_type --roll-secs 10 --time-partition hour $SLAKE --metastore --database lab --table stream_${RUN}_ &"
start_pipeline
until pq-cat --offsets "$SLAKE" 2>/dev/null | grep -q files; do sleep 1; done
echo "rows in Trino (no hive-ddl: registered as committed): $(count)"

sleep 5
step "kill -9 $PQ   # pq-write dies with open files; kcat-lite ends on its own"
kill -9 "$PQ"
wait "$KCAT" "$PQ" 2>/dev/null || true
echo "rows in Trino: $(count)"

step "(restart the same pipeline: it resumes after the last committed offset of each partition)"
start_pipeline
for _ in 1 2 3; do sleep 5; echo "rows in Trino: $(count)"; done
wait "$PRODUCER"

step "kill -TERM $KCAT; then drain: kcat-lite ... -e | pq-write ..."
kill -TERM "$KCAT"
wait "$KCAT" "$PQ" 2>/dev/null || true
start_pipeline -e -q
wait "$KCAT" "$PQ"

step "pq-cat --offsets $SLAKE"
pq-cat --offsets "$SLAKE"
ROWS=$(count)
echo "produced $N events; Trino counts $ROWS rows"
[[ $ROWS == "$N" ]] || { echo "demo: streaming step lost or duplicated rows" >&2; exit 1; }

# the stream is over, so every partition is closed (--lateness 0); three runs: each
# partition moved to a merged copy, compacted in place and moved back, the copy deleted
COMPACT=(pq-compact --metastore "$HIVE_METASTORE" --database lab --table "stream_${RUN}_" --lateness 0 --grace 0 --min-age 0 "$SLAKE")
step "${COMPACT[*]}   # three times: the stream's small files merged, offsets kept, Trino never sees a swap"
FILES_BEFORE=$(hdfs-ls -R -C "$SLAKE" | grep -v /_lakepipe/ | grep -c '\.parquet$')
for _ in 1 2 3; do "${COMPACT[@]}"; echo "rows in Trino: $(count)"; done
FILES_AFTER=$(hdfs-ls -R -C "$SLAKE" | grep -v /_lakepipe/ | grep -c '\.parquet$')
ROWS=$(count)
echo "files: $FILES_BEFORE -> $FILES_AFTER; Trino counts $ROWS rows"
pq-cat --offsets "$SLAKE"
[[ $ROWS == "$N" ]] || { echo "demo: compaction changed the count" >&2; exit 1; }
