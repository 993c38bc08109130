#!/usr/bin/env bash
# Small files: a table of BENCH_COMPACT_FILES (default 10,000) stream-sized
# files, 10-second files of the lab events at 10 events/s per Kafka partition (100 rows
# each, 3 partitions, hourly dt=/hour= folders, named by their offsets as the
# exactly-once stream names them), registered in the metastore:
# - Trino count(*) and a GROUP BY, `hdfs-ls -R`, and a `kcat-lite --resume-from` start,
#   before and after pq-compact;
# - pq-compact's throughput against the engines' own ways to compact the same data in
#   the same run: Spark SQL `INSERT OVERWRITE` of the partitions (a copy of the table)
#   and Trino's `ALTER TABLE ... EXECUTE optimize` (another copy), with the session's
#   hive.non_transactional_optimize_enabled (off by default: Trino warns that queries
#   meanwhile may read duplicate rows).
source "$(dirname "$0")/lib.sh"
if [[ -z ${HIVE_METASTORE:-} || -z ${PRESTO_SERVER:-} || -z ${LAKEPIPE_SPARK_SQL:-} ]]; then
  bash "$ROOT/services/up.sh" kafka hdfs metastore trino spark >&2
  # shellcheck disable=SC1091
  source "$ROOT/services/.state/env.sh"
fi
FILES=${BENCH_COMPACT_FILES:-10000}
PER_FILE=100
ROWS=$((FILES * PER_FILE))
EV=$(events "$ROWS")
KL=$BIN/kcat-lite PW=$BIN/pq-write PCO=$BIN/pq-compact PQ=$BIN/presto-q HL=$BIN/hdfs-ls HD=$BIN/hive-ddl
RUN=bench_compact_$(date +%s)_$$
TOPIC=$RUN
LAKE=$HDFS_NAMENODE/tmp/$RUN
WORK=$OUT/$RUN
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

echo "== $FILES stream files of $PER_FILE lab events ($ROWS rows), hourly folders, on HDFS"
# kcat -J envelopes: 3 partitions, 10 events/s each, from 2026-12-01 00:00 UTC
python3 - "$EV" "$TOPIC" >"$WORK/envelopes.jsonl" <<'PY'
import json, sys
start = 1_764_547_200_000
with open(sys.argv[1]) as f:
    for i, line in enumerate(f):
        p, n = i % 3, i // 3
        print(json.dumps({"topic": sys.argv[2], "partition": p, "offset": n, "tstype": "create",
                          "ts": start + n * 100, "broker": 1, "key": None,
                          "payload": line.rstrip("\n")}, separators=(",", ":")))
PY
"$PW" --envelope kcat --kafka-meta --exactly-once --roll-rows "$PER_FILE" --time-partition hour \
  -q "$WORK/lake/" <"$WORK/envelopes.jsonl"
"$LAKEPIPE_HDFS_DFS" -mkdir -p "$LAKE"
# three copies, one per compactor, registered by Spark SQL with the partition keys as
# strings (as pq-write registers them): hive-ddl would type hour as BIGINT, and Trino's
# optimize and Spark's partition overwrite then write to hour=0, not hour=00
for t in pqc spark trino; do
  "$LAKEPIPE_HDFS_DFS" -put -t 32 "$WORK/lake" "$LAKE/$t" # 32 threads: 10,000 small files, latency-bound
  "$HD" --table "${RUN}_$t" "$LAKE/$t/" 2>/dev/null | sed 's/`hour` BIGINT/`hour` STRING/'
  echo
done >"$WORK/tables.sql"
"$LAKEPIPE_SPARK_SQL" -f "$WORK/tables.sql" >/dev/null
echo "  $("$HL" -R -C "$LAKE/pqc" | grep -c '\.parquet$') files in $("$HL" -C "$LAKE/pqc" | grep -c 'dt=') day folders"
"$KL" -b "$KAFKA_BROKERS" -q --create-topic "$TOPIC" --partitions 3
head -n 30000 "$EV" | "$KL" -b "$KAFKA_BROKERS" -t "$TOPIC" -P -q

COUNT="SELECT count(*) FROM hive.default.${RUN}_pqc"
GROUPBY="SELECT event_type, count(*), count(DISTINCT hour) FROM hive.default.${RUN}_pqc GROUP BY 1 ORDER BY 1"
reads() { # $1: before|after
  REPEAT=3 measure "compact-$1" "Trino count(*)" "$PQ -q --output-format tsv '$COUNT'"
  REPEAT=3 measure "compact-$1" "Trino GROUP BY" "$PQ -q --output-format tsv '$GROUPBY'"
  REPEAT=3 measure "compact-$1" "hdfs-ls -R" "$HL -R $LAKE/pqc/"
  REPEAT=3 measure "compact-$1" "kcat-lite --resume-from" "$KL -b $KAFKA_BROKERS -C -t $TOPIC -e -q --resume-from $LAKE/pqc/ -f ''"
}
FIRST_RESULT=$(wc -l <"$RESULTS" 2>/dev/null || echo 0)
echo "-- before compaction"
reads before

echo "-- compaction of all $FILES files (each tool once, on its own copy)"
REPEAT=1 measure compact-run "pq-compact --metastore (step 1: to merged copies)" \
  "$PCO -q --metastore $HIVE_METASTORE --table ${RUN}_pqc --lateness 0 --grace 0 --min-age 0 $LAKE/pqc/"
REPEAT=1 measure compact-run "pq-compact --metastore (step 2: in place, back)" \
  "$PCO -q --metastore $HIVE_METASTORE --table ${RUN}_pqc --lateness 0 --grace 0 --min-age 0 $LAKE/pqc/"
"$PCO" -q --metastore "$HIVE_METASTORE" --table "${RUN}_pqc" --lateness 0 --grace 0 --min-age 0 "$LAKE/pqc/"
# every hour partition overwritten with its own rows (static partitions: Spark reads and
# rewrites one partition at a time; the regex column drops the partition keys)
SPARK_SQL=$("$HL" -C "$LAKE/spark" | grep -o 'dt=[^/]*' | sort -u | while read -r d; do
  "$HL" -C "$LAKE/spark/$d" | grep -o 'hour=[^/]*' | sort -u | while read -r h; do
    printf "INSERT OVERWRITE TABLE default.%s_spark PARTITION (dt='%s', hour='%s') SELECT \`(dt|hour)?+.+\` FROM default.%s_spark WHERE dt='%s' AND hour='%s';\n" \
      "$RUN" "${d#dt=}" "${h#hour=}" "$RUN" "${d#dt=}" "${h#hour=}"
  done
done)
printf '%s\n' "$SPARK_SQL" >"$WORK/spark.sql"
REPEAT=1 measure compact-run "Spark SQL INSERT OVERWRITE" \
  "$LAKEPIPE_SPARK_SQL --conf spark.sql.parser.quotedRegexColumnNames=true --conf spark.sql.hive.convertInsertingPartitionedTable=false -f $WORK/spark.sql"
REPEAT=1 measure compact-run "Trino EXECUTE optimize" \
  "$PQ -q --session hive.non_transactional_optimize_enabled=true \"ALTER TABLE hive.default.${RUN}_trino EXECUTE optimize(file_size_threshold => '128MB')\""
for t in pqc spark trino; do
  # the files the table reads now (Spark may write a partition's new files elsewhere)
  read -r n c < <("$PQ" -q --output-format tsv "SELECT count(DISTINCT \"\$path\"), count(*) FROM hive.default.${RUN}_$t")
  echo "  $t: $n files, Trino counts $c of $ROWS"
done

echo "-- after pq-compact"
reads after
tail -n +"$((FIRST_RESULT + 1))" "$RESULTS" | awk -F'\t' -v rows="$ROWS" '$1 == "compact-run" && $3 != "FAILED" { printf "  %-48s %8.2f s = %.0f rows/s\n", $2, $3, rows / $3 }'
"$LAKEPIPE_HDFS_DFS" -rm -r -f -skipTrash "$LAKE" >/dev/null
"$KL" -b "$KAFKA_BROKERS" -q --delete-topic "$TOPIC" || true
