#!/usr/bin/env bash
# pq-write and pq-cat against DuckDB, pyarrow and polars.
source "$(dirname "$0")/lib.sh"
needs_python
ROWS=${BENCH_ROWS:-1000000}
EV=$(events "$ROWS")
PY=$LAKEPIPE_PYTHON
W=$OUT/parquet
rm -rf "$W" && mkdir -p "$W"
echo "== JSON lines -> snappy Parquet: $ROWS events, $(du -m "$EV" | cut -f1) MB"
# The two fastest take turns, medians of 5: one 2-second run here varies by 20%.
measure_rr write 5 \
  pq-write "$BIN/pq-write -q --overwrite -i $EV $W/pq-write.parquet" \
  duckdb "$PY -c \"import duckdb; duckdb.sql(\\\"COPY (SELECT * FROM read_json_auto('$EV')) TO '$W/duckdb.parquet' (FORMAT parquet, COMPRESSION snappy)\\\")\""
measure write pyarrow "$PY -c \"import pyarrow.json as pj, pyarrow.parquet as pq; pq.write_table(pj.read_json('$EV'), '$W/pyarrow.parquet', compression='snappy')\""
measure write polars "$PY -c \"import polars as pl; pl.scan_ndjson('$EV').sink_parquet('$W/polars.parquet', compression='snappy')\""
report write pq-write "$ROWS"

echo "== snappy Parquet -> JSON lines on /dev/null (the file pq-write wrote)"
P=$W/pq-write.parquet
measure_rr read 5 \
  pq-cat "$BIN/pq-cat $P >/dev/null" \
  polars "$PY -c \"import polars as pl; pl.scan_parquet('$P').sink_ndjson('/dev/stdout')\" >/dev/null"
measure read duckdb "$PY -c \"import duckdb; duckdb.sql(\\\"COPY (SELECT * FROM read_parquet('$P')) TO '/dev/stdout' (FORMAT json)\\\")\" >/dev/null"
report read pq-cat "$ROWS"

echo "== snappy Parquet -> CSV on /dev/null (nested values as JSON text)"
measure_rr csv 3 \
  pq-cat "$BIN/pq-cat --format csv $P >/dev/null" \
  duckdb "$PY -c \"import duckdb; duckdb.sql(\\\"COPY (SELECT * FROM read_parquet('$P')) TO '/dev/stdout' (FORMAT csv)\\\")\" >/dev/null"
report csv pq-cat "$ROWS"

echo "== pq-write memory: 1x vs 10x the events (streamed, same file repeated)"
measure mem1 "pq-write 1x" "cat $EV | $BIN/pq-write -q $W/m1.parquet"
measure mem10 "pq-write 10x" "for i in 1 2 3 4 5 6 7 8 9 10; do cat $EV; done | $BIN/pq-write -q $W/m10.parquet"
awk -F'\t' '$1=="mem1"{a=$4} $1=="mem10"{b=$4} END{ if (a) printf "  peak RSS 10x / 1x = %.2f\n", b/a }' "$RESULTS"
rm -rf "$W"/m*.parquet
