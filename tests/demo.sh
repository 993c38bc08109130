#!/usr/bin/env bash
# make demo: the lab pipeline end to end on the real services:
# Kafka -> jq-lite -> pq-write -> HDFS -> hive-ddl (Hive metastore) -> Trino, queried with presto-q;
# then the streaming lake: a live topic written exactly once as 10-second files (tests/demo-stream.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release}
export PATH="$(cd "$BIN" && pwd):$PATH"
OUT=demo-out
rm -rf "$OUT" && mkdir -p "$OUT"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

step "bash services/up.sh kafka hdfs metastore trino   # real services on 127.0.0.1 (first run downloads them)"
bash services/up.sh kafka hdfs metastore trino
# shellcheck disable=SC1091
source services/.state/env.sh
RUN=$(date +%s)
TOPIC=events_$RUN
LAKE=$HDFS_NAMENODE/lake/events_$RUN

step "python3 bench/gen_events.py 20000 > $OUT/events.jsonl"
python3 bench/gen_events.py 20000 >"$OUT/events.jsonl"
head -c 300 "$OUT/events.jsonl"; echo "..."

step "kcat-lite -b $KAFKA_BROKERS --create-topic $TOPIC --partitions 3"
kcat-lite -b "$KAFKA_BROKERS" --create-topic "$TOPIC" --partitions 3

step "kcat-lite -b $KAFKA_BROKERS -t $TOPIC -P < $OUT/events.jsonl"
kcat-lite -b "$KAFKA_BROKERS" -t "$TOPIC" -P <"$OUT/events.jsonl"

step "kcat-lite -b $KAFKA_BROKERS -t $TOPIC -C -e | jq-lite -c 'select(.event_type != \"default\")' | pq-write --partition-by event_type $LAKE/"
kcat-lite -b "$KAFKA_BROKERS" -t "$TOPIC" -C -e \
  | jq-lite -c 'select(.event_type != "default")' \
  | pq-write --partition-by event_type "$LAKE/"

step "hdfs-ls -R -h $LAKE"
hdfs-ls -R -h "$LAKE"

step "pq-cat --count $LAKE"
pq-cat --count "$LAKE"

step "pq-cat --schema $LAKE"
pq-cat --schema "$LAKE"

step "pq-cat --format table --columns event_type,seq,user,price --head 5 $LAKE"
pq-cat --format table --columns event_type,seq,user,price --head 5 "$LAKE"

step "hive-ddl --metastore $HIVE_METASTORE --database lab --table events_$RUN $LAKE   # no JVM, no SQL"
hive-ddl --metastore "$HIVE_METASTORE" --database lab --table "events_$RUN" "$LAKE"

step "hive-ddl --metastore $HIVE_METASTORE --database lab --table events_$RUN $LAKE   # again: nothing new"
hive-ddl --metastore "$HIVE_METASTORE" --database lab --table "events_$RUN" "$LAKE"

step "hive-ddl --dialect trino --schema lab --table events_$RUN $LAKE > $OUT/events.sql   # the same table as SQL"
hive-ddl --dialect trino --schema lab --table "events_$RUN" "$LAKE" >"$OUT/events.sql"
cat "$OUT/events.sql"

step "presto-q --output-format table 'SELECT event_type, count(*) AS events, round(avg(price), 2) AS avg_price FROM hive.lab.events_$RUN GROUP BY 1 ORDER BY 1'"
presto-q --output-format table "SELECT event_type, count(*) AS events, round(avg(price), 2) AS avg_price FROM hive.lab.events_$RUN GROUP BY 1 ORDER BY 1"

# shellcheck source=tests/demo-stream.sh
source tests/demo-stream.sh

step "presto-q --output-format json 'SELECT * FROM tpch.tiny.orders' | pq-write $OUT/orders.parquet"
presto-q -q --output-format json 'SELECT * FROM tpch.tiny.orders' | pq-write "$OUT/orders.parquet"
pq-cat --count "$OUT/orders.parquet"
echo
echo "demo done: local files in $OUT/, Parquet in $LAKE, table hive.lab.events_$RUN (make services-down stops the services)"
