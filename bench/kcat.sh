#!/usr/bin/env bash
# kcat-lite against kcat on the same broker and data (issue 4): produce 1M lab events
# (all acknowledged), then consume them from the beginning to the end into /dev/null.
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
# ~1 s runs: the median of 3 each. Produce goes to one topic per tool (3x the rows in the
# end); consume reads a third topic that holds the rows once.
R=3
for t in ours kcat c; do
  "$KL" -b "$B" -q --create-topic "$RUN-$t" --partitions 1
done
echo "== produce $ROWS lines ($(du -m "$EV" | cut -f1) MB) from a file, every message acknowledged"
REPEAT=$R measure produce kcat-lite "$KL -b $B -t $RUN-ours -P -q <$EV"
REPEAT=$R measure produce kcat "$LAKEPIPE_KCAT -b $B -t $RUN-kcat -P <$EV"
report produce kcat-lite "$ROWS"
for t in ours kcat; do
  got=$("$KL" -b "$B" -t "$RUN-$t" -C -e -q -f '%o\n' -o -1)
  [[ $got == $((R * ROWS - 1)) ]] || echo "bench: topic $RUN-$t ends at offset $got, expected $((R * ROWS - 1))" >&2
done
"$KL" -b "$B" -t "$RUN-c" -P -q <"$EV"
echo "== consume $ROWS messages -o beginning -e into /dev/null (same topic)"
REPEAT=$R measure consume kcat "$LAKEPIPE_KCAT -b $B -t $RUN-c -C -o beginning -e -q >/dev/null"
REPEAT=$R measure consume kcat-lite "$KL -b $B -t $RUN-c -C -o beginning -e -q >/dev/null"
report consume kcat-lite "$ROWS"
echo "== consume as -J envelopes into /dev/null"
measure consume-json kcat "$LAKEPIPE_KCAT -b $B -t $RUN-c -C -o beginning -e -q -J >/dev/null"
measure consume-json kcat-lite "$KL -b $B -t $RUN-c -C -o beginning -e -q -J >/dev/null"
report consume-json kcat-lite "$ROWS"
for t in ours kcat c; do
  "$KL" -b "$B" -q --delete-topic "$RUN-$t" || true
done
