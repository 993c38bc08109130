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
for t in ours kcat; do
  "$KL" -b "$B" -q --create-topic "$RUN-$t" --partitions 1
done
echo "== produce $ROWS lines ($(du -m "$EV" | cut -f1) MB) from a file, every message acknowledged"
measure produce kcat-lite "$KL -b $B -t $RUN-ours -P -q <$EV"
measure produce kcat "$LAKEPIPE_KCAT -b $B -t $RUN-kcat -P <$EV"
report produce kcat-lite "$ROWS"
echo "== consume $ROWS messages -o beginning -e into /dev/null (same topic)"
measure consume kcat "$LAKEPIPE_KCAT -b $B -t $RUN-ours -C -o beginning -e -q >/dev/null"
measure consume kcat-lite "$KL -b $B -t $RUN-ours -C -o beginning -e -q >/dev/null"
report consume kcat-lite "$ROWS"
echo "== consume as -J envelopes into /dev/null"
measure consume-json kcat "$LAKEPIPE_KCAT -b $B -t $RUN-ours -C -o beginning -e -q -J >/dev/null"
measure consume-json kcat-lite "$KL -b $B -t $RUN-ours -C -o beginning -e -q -J >/dev/null"
report consume-json kcat-lite "$ROWS"
got=$("$KL" -b "$B" -t "$RUN-kcat" -C -e -q -f '%o\n' -o -1)
[[ $got == $((ROWS - 1)) ]] || echo "bench: kcat topic ends at offset $got, expected $((ROWS - 1))" >&2
got=$("$KL" -b "$B" -t "$RUN-ours" -C -e -q -f '%o\n' -o -1)
[[ $got == $((ROWS - 1)) ]] || echo "bench: kcat-lite topic ends at offset $got, expected $((ROWS - 1))" >&2
for t in ours kcat; do
  "$KL" -b "$B" -q --delete-topic "$RUN-$t" || true
done
