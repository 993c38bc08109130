#!/usr/bin/env bash
# make demo: the lab pipeline end to end with the tools that exist so far.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release}
export PATH="$(cd "$BIN" && pwd):$PATH"
OUT=demo-out
rm -rf "$OUT" && mkdir -p "$OUT"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "python3 bench/gen_events.py 20000 > $OUT/events.jsonl"
python3 bench/gen_events.py 20000 >"$OUT/events.jsonl"
head -c 300 "$OUT/events.jsonl"; echo "..."

if [[ -z ${KAFKA_BROKERS:-} ]]; then
  step "bash services/up.sh kafka"
  bash services/up.sh kafka
  # shellcheck disable=SC1091
  source services/.state/env.sh
fi
TOPIC=demo-events-$(date +%s)

step "kcat-lite -b $KAFKA_BROKERS --create-topic $TOPIC --partitions 3"
kcat-lite -b "$KAFKA_BROKERS" --create-topic "$TOPIC" --partitions 3

step "kcat-lite -b $KAFKA_BROKERS -t $TOPIC -P < $OUT/events.jsonl"
kcat-lite -b "$KAFKA_BROKERS" -t "$TOPIC" -P <"$OUT/events.jsonl"

step "kcat-lite -b $KAFKA_BROKERS -t $TOPIC -C -e | pq-write --partition-by event_type $OUT/lake/events/"
kcat-lite -b "$KAFKA_BROKERS" -t "$TOPIC" -C -e | pq-write --partition-by event_type "$OUT/lake/events/"
find "$OUT/lake/events" -name '*.parquet' | sort | sed 's/^/  /'

step "pq-cat --count $OUT/lake/events"
pq-cat --count "$OUT/lake/events"

step "pq-cat --schema $OUT/lake/events"
pq-cat --schema "$OUT/lake/events"

step "pq-cat --format table --columns event_type,seq,user,price --head 5 $OUT/lake/events/event_type=purchase_sword"
pq-cat --format table --columns event_type,seq,user,price --head 5 "$OUT/lake/events/event_type=purchase_sword"

step "pq-cat --format csv --header --columns seq,Host,sword_type --head 3 $OUT/lake/events"
pq-cat --format csv --header --columns seq,Host,sword_type --head 3 "$OUT/lake/events"
echo
echo "demo done: files in $OUT/"
