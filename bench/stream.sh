#!/usr/bin/env bash
# The exactly-once streaming pipeline on the real Kafka and HDFS:
# - end to end: a topic of BENCH_ROWS lab events (3 partitions) to committed files on HDFS,
#   `kcat-lite -G -J --resume-from | pq-write --envelope kcat --exactly-once` (also with
#   `--split-by event_type`: a table per type, a file per table and partition), against the
#   same group pipeline without exactly-once (at most once) and kcat -C -J | pq-write (no
#   group: a -G run includes the broker's group join, group.initial.rebalance.delay.ms 3 s);
# - resume: the time to start after the committed offsets of a folder of 10,000 files.
source "$(dirname "$0")/lib.sh"
if [[ -z ${KAFKA_BROKERS:-} || -z ${HDFS_NAMENODE:-} ]]; then
  bash "$ROOT/services/up.sh" kafka hdfs >&2
  # shellcheck disable=SC1091
  source "$ROOT/services/.state/env.sh"
fi
ROWS=${BENCH_ROWS:-1000000}
EV=$(events "$ROWS")
KL=$BIN/kcat-lite PW=$BIN/pq-write PC=$BIN/pq-cat
B=$KAFKA_BROKERS
RUN=bench-stream-$(date +%s)-$$
LAKE=$HDFS_NAMENODE/tmp/$RUN
"$KL" -b "$B" -q --create-topic "$RUN" --partitions 3
"$KL" -b "$B" -t "$RUN" -P -q <"$EV"
R=${BENCH_ROUNDS:-3}
echo "== $ROWS events from Kafka to committed Parquet files on HDFS (3 partitions)"
for ((i = 1; i <= R; i++)); do
  # fresh folders and groups per run, the pipelines taking turns
  REPEAT=1 measure stream-e2e "exactly-once" \
    "$KL -b $B -G $RUN-eo-$i -J --resume-from $LAKE/eo-$i/ -e -q $RUN | $PW --envelope kcat --kafka-meta --exactly-once -q $LAKE/eo-$i/"
  REPEAT=1 measure stream-e2e "exactly-once --split-by" \
    "$KL -b $B -G $RUN-split-$i -J --resume-from $LAKE/split-$i/ -e -q $RUN | $PW --envelope kcat --kafka-meta --exactly-once --split-by event_type -q $LAKE/split-$i/"
  REPEAT=1 measure stream-e2e "kcat-lite -G | pq-write" \
    "$KL -b $B -G $RUN-g-$i -J -e -q $RUN | $PW --envelope kcat --kafka-meta -q $LAKE/group-$i/"
  REPEAT=1 measure stream-e2e "kcat -C | pq-write" \
    "$LAKEPIPE_KCAT -b $B -C -t $RUN -o beginning -J -e -q | $PW --envelope kcat --kafka-meta -q $LAKE/plain-$i/"
done
awk -F'\t' -v rows="$ROWS" '$1 == "stream-e2e" && $3 != "FAILED" { if (!($2 in best) || $3 < best[$2]) best[$2] = $3; if ($4 > rss[$2]) rss[$2] = $4 }
  END { for (t in best) printf "  %-28s best %.2f s = %.0f messages/s, peak %d MB\n", t, best[t], rows / best[t], rss[t] }' "$RESULTS"
got=$("$PC" --count "$LAKE/eo-1/")
[[ $got == "$ROWS" ]] || echo "bench: the exactly-once lake holds $got rows, expected $ROWS" >&2

echo "== resume over a folder of 10,000 committed files"
FILES=10000
names=()
for ((i = 0; i < FILES; i++)); do
  names+=("$(printf '%s/resume/%s+%d+%010d+%010d.parquet' "$LAKE" "$RUN" $((i % 3)) $((i / 3 * 10)) $((i / 3 * 10 + 9)))")
done
"$LAKEPIPE_HDFS_DFS" -mkdir -p "$LAKE/resume"
printf '%s\n' "${names[@]}" | xargs -n 2500 "$LAKEPIPE_HDFS_DFS" -touchz
REPEAT=5 measure resume "kcat-lite --resume-from (10k files)" "$KL -b $B -C -t $RUN -e -q --resume-from $LAKE/resume/ -f ''"
REPEAT=5 measure resume "kcat-lite -o end (no lake)" "$KL -b $B -C -t $RUN -e -q -o end -f ''"
# (pq-cat --offsets reads every footer for its row counts: it is an audit, not a resume,
# and these 10,000 names are empty files)
"$LAKEPIPE_HDFS_DFS" -rm -r -f -skipTrash "$LAKE" >/dev/null
"$KL" -b "$B" -q --delete-topic "$RUN" || true
