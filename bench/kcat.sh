#!/usr/bin/env bash
# kcat-lite against kcat on the same broker and data: produce 1M lab events
# (all acknowledged; each tool with its default codec and with the other's), then consume
# them from the beginning to the end into /dev/null.
source "$(dirname "$0")/lib.sh"
if [[ -z ${KAFKA_BROKERS:-} || -z ${LAKEPIPE_KCAT:-} ]]; then
  bash "$ROOT/services/up.sh" kafka >&2
  # shellcheck disable=SC1091
  source "$ROOT/services/.state/env.sh"
fi
ROWS=${BENCH_ROWS:-1000000}
EV=$(events "$ROWS")
KL=$BIN/kcat-lite
B=$KAFKA_BROKERS
RUN=bench-$(date +%s)-$$
# ~1-2 s runs against a broker on the same 2 cores: medians of R rounds in which the
# tools take turns. Produce goes to one topic per tool and codec (R x the rows in the end);
# consume reads another topic that holds the rows once.
R=${BENCH_ROUNDS:-5}
TOPICS="ours kcat ours-none kcat-lz4 c"
for t in $TOPICS; do
  "$KL" -b "$B" -q --create-topic "$RUN-$t" --partitions 1
done
echo "== produce $ROWS lines ($(du -m "$EV" | cut -f1) MB) from a file, every message acknowledged"
# The defaults differ (kcat-lite lz4, kcat none): each tool with the other's codec too.
measure_rr produce "$R" \
  kcat-lite "$KL -b $B -t $RUN-ours -P -q <$EV" \
  kcat "$LAKEPIPE_KCAT -b $B -t $RUN-kcat -P <$EV" \
  "kcat-lite -z none" "$KL -b $B -t $RUN-ours-none -P -q -z none <$EV" \
  "kcat -z lz4" "$LAKEPIPE_KCAT -b $B -t $RUN-kcat-lz4 -P -z lz4 <$EV"
report produce kcat-lite "$ROWS"
for t in ours kcat ours-none kcat-lz4; do
  got=$("$KL" -b "$B" -t "$RUN-$t" -C -e -q -f '%o\n' -o -1)
  [[ $got == $((R * ROWS - 1)) ]] || echo "bench: topic $RUN-$t ends at offset $got, expected $((R * ROWS - 1))" >&2
done
"$KL" -b "$B" -t "$RUN-c" -P -q -z none <"$EV" # uncompressed, as the earlier figures
# Consume into a pipe (a reader, as in a pipeline); only the consumer's CPU is counted.
# Client CPU (user + sys) is the figure to watch: wall time here is the broker's pace.
echo "== consume $ROWS messages -o beginning -e into a pipe (same topic)"
PIPE_OUT="cat >/dev/null" measure_rr consume "$R" \
  kcat "$LAKEPIPE_KCAT -b $B -t $RUN-c -C -o beginning -e -q" \
  kcat-lite "$KL -b $B -t $RUN-c -C -o beginning -e -q"
report consume kcat-lite "$ROWS"
echo "== consume as -J envelopes into a pipe"
PIPE_OUT="cat >/dev/null" measure_rr consume-json "$R" \
  kcat "$LAKEPIPE_KCAT -b $B -t $RUN-c -C -o beginning -e -q -J" \
  kcat-lite "$KL -b $B -t $RUN-c -C -o beginning -e -q -J"
report consume-json kcat-lite "$ROWS"
echo "== consume -G (a group, offsets committed) as -J envelopes into a pipe"
PIPE_OUT="cat >/dev/null" measure_rr consume-group "$R" \
  kcat "$LAKEPIPE_KCAT -b $B -G $RUN-kcat-\$RANDOM -o beginning -e -q -J $RUN-c" \
  kcat-lite "$KL -b $B -G $RUN-ours-\$RANDOM -o beginning -e -q -J $RUN-c"
report consume-group kcat-lite "$ROWS"
for t in $TOPICS; do
  "$KL" -b "$B" -q --delete-topic "$RUN-$t" || true
done
