#!/usr/bin/env bash
# The streaming leg against the lab's own tool: on a paced topic (3 partitions,
# a fresh one per pipeline) and the same HDFS, in turns,
# - lakepipe: kcat-lite -G -J --resume-from | pq-write --exactly-once --roll-secs 10
#   (and with --split-by event_type);
# - Spark Structured Streaming (the services' pyspark, local[2], the Kafka source from
#   Maven Central): the Parquet file sink with a 10-second processing-time trigger and a
#   checkpoint folder (and a foreachBatch writing a folder per event type).
# bench/stream_bench.py drives each: a producer stamping each event with its send time at
# rising rates, a poller listing the lake, /proc sampled for CPU and peak RSS.
# STREAM_QUICK=1: two 30-second steps (about 8 minutes in all instead of about 15-20);
# STREAM_RATES="5000 20000 60000" (events/s) and STREAM_STEP_SECS=60 set the ladder.
# STREAM_ONLY="lakepipe lakepipe-split spark spark-split" picks pipelines.
source "$(dirname "$0")/lib.sh"
if [[ -z ${KAFKA_BROKERS:-} || -z ${HDFS_NAMENODE:-} ]]; then
  bash "$ROOT/services/up.sh" kafka hdfs >&2
  # shellcheck disable=SC1091
  source "$ROOT/services/.state/env.sh"
fi
# pyspark's venv and the Kafka source's jars (fetched once into the cache)
bash "$ROOT/services/up.sh" --install-only spark >&2
"$ROOT/services/bin/spark-py" -c 'import pyspark' >&2
if [[ -n ${STREAM_QUICK:-} ]]; then
  export STREAM_RATES=${STREAM_RATES:-5000 20000} STREAM_STEP_SECS=${STREAM_STEP_SECS:-30}
  export STREAM_WARM_SECS=${STREAM_WARM_SECS:-5} STREAM_DRAIN_SECS=${STREAM_DRAIN_SECS:-40}
fi
export BIN KAFKA_BROKERS
export STREAM_SERVICE_PIDS="$(cat "$ROOT"/services/.state/{kafka,hdfs}.pid 2>/dev/null | awk '{ print $1 }' | xargs)"
KL=$BIN/kcat-lite PW=$BIN/pq-write
B=$KAFKA_BROKERS
EV=$(events 200000)
RUN=bench-sss-$(date +%s)-$$
LAKE=$HDFS_NAMENODE/tmp/$RUN
ROLL=${STREAM_ROLL_SECS:-10}
export STREAM_ROLL_SECS=$ROLL
ONLY=${STREAM_ONLY:-lakepipe spark lakepipe-split spark-split}
OUTF=$OUT/stream-spark.out

pipeline() {
  local t=$1 lake=$2
  case $3 in
    lakepipe) echo "$KL -b $B -G $t -J --resume-from $lake/ -q $t | $PW --envelope kcat --kafka-meta --exactly-once --roll-secs $ROLL -q $lake/" ;;
    lakepipe-split) echo "$KL -b $B -G $t -J --resume-from $lake/ -q $t | $PW --envelope kcat --kafka-meta --exactly-once --split-by event_type --roll-secs $ROLL -q $lake/" ;;
    spark) echo "$ROOT/services/bin/spark-py $BENCH_DIR/spark_stream.py $B $t $lake $lake-checkpoint plain $ROLL" ;;
    spark-split) echo "$ROOT/services/bin/spark-py $BENCH_DIR/spark_stream.py $B $t $lake $lake-checkpoint split $ROLL" ;;
  esac
}

echo "== streaming under a paced load: rates ${STREAM_RATES:-5000 20000 60000}/s, ${STREAM_STEP_SECS:-60} s each; roll/trigger ${ROLL} s"
echo "   load before: $(uptime)"
: >"$OUTF"
for p in $ONLY; do
  t=$RUN-$p
  "$KL" -b "$B" -q --create-topic "$t" --partitions 3
  cmd=$(pipeline "$t" "$LAKE/$p" "$p")
  echo "-- $p: $cmd"
  python3 "$BENCH_DIR/stream_bench.py" "$p" "$cmd" "$LAKE/$p" "$t" "$EV" "$RESULTS" | tee -a "$OUTF" || true
  "$KL" -b "$B" -q --delete-topic "$t" || true
  "$LAKEPIPE_HDFS_DFS" -rm -r -f -skipTrash "$LAKE/$p" "$LAKE/$p-checkpoint" >/dev/null 2>&1 || true
done
echo "   load after: $(uptime)"
python3 "$BENCH_DIR/stream_bench_table.py" "$OUTF"
