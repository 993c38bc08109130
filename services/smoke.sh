#!/usr/bin/env bash
# Smoke tests of the services through their reference clients: services/smoke.sh [PHASE].
# Needs services/up.sh first (all services); a missing service is a failure, never a skip.
# PHASE `services`: the checks through the clients. PHASE `teardown`: down.sh leaves
# nothing behind, a taken port fails fast, and installing again downloads nothing (the
# services stay down: make test runs it after the live tests). No PHASE: both, and the
# services are started again (from the cache) at the end. Prints ok/FAIL per check and
# "N passed, N failed".
source "$(dirname "$0")/lib.sh"
set +e
phase=${1:-all}
[[ $phase == @(all|services|teardown) ]] || { echo "usage: services/smoke.sh [services|teardown]" >&2; exit 2; }

passed=0 failed=0
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
RUN_ID=$(date +%s)-$$

ok() { echo "ok   $1"; passed=$((passed + 1)); }
fail() { echo "FAIL $1${2:+: $2}"; failed=$((failed + 1)); }
# check NAME CMD...: runs CMD (a function; its commands have time limits), says how long
check() {
  local name=$1 t0=$SECONDS; shift
  local out
  if out=$("$@" 2>&1); then ok "$name ($((SECONDS - t0))s)"; else fail "$name ($((SECONDS - t0))s)" "$(tail -5 <<<"$out" | tr '\n' ' ')"; fi
}
need() { [[ -n ${!1:-} ]] || { echo "$1 is not set in $STATE/env.sh (service not started?)"; return 1; }; }

if [[ -f $STATE/env.sh ]]; then source "$STATE/env.sh"; else echo "no $STATE/env.sh: run services/up.sh"; fi

kafka_1000() {
  need KAFKA_BROKERS && need LAKEPIPE_KCAT || return 1
  local topic=smoke-$RUN_ID
  seq 1 1000 | sed 's/^/message-/' >"$WORK/msgs"
  # stdin is produced as one message per line
  timeout 60 "$LAKEPIPE_KCAT" -P -b "$KAFKA_BROKERS" -t "$topic" <"$WORK/msgs" 2>&1 || return 1
  timeout 60 "$LAKEPIPE_KCAT" -C -b "$KAFKA_BROKERS" -t "$topic" -e -q >"$WORK/got" || return 1
  [[ $(wc -l <"$WORK/got") -eq 1000 ]] || { echo "consumed $(wc -l <"$WORK/got") messages, want 1000"; return 1; }
  cmp "$WORK/msgs" "$WORK/got"
}

kafka_topics_3_partitions() {
  need KAFKA_BROKERS && need LAKEPIPE_KAFKA_TOPICS || return 1
  local topic=smoke3-$RUN_ID
  timeout 60 "$LAKEPIPE_KAFKA_TOPICS" --bootstrap-server "$KAFKA_BROKERS" --create --topic "$topic" --partitions 3 || return 1
  timeout 30 "$LAKEPIPE_KCAT" -L -b "$KAFKA_BROKERS" -t "$topic" | grep -q "topic \"$topic\" with 3 partitions"
}

hdfs_put_ls_cat() {
  need HDFS_NAMENODE && need LAKEPIPE_HDFS_DFS || return 1
  local dir=/tmp/smoke-$RUN_ID
  printf 'hello hdfs\nline 2\n' >"$WORK/hello.txt"
  timeout 60 "$LAKEPIPE_HDFS_DFS" -mkdir -p "$dir" || return 1
  timeout 60 "$LAKEPIPE_HDFS_DFS" -put "$WORK/hello.txt" "$dir/hello.txt" || return 1
  local ls
  ls=$(timeout 60 "$LAKEPIPE_HDFS_DFS" -ls "$dir") || return 1
  grep -qE "^-rw-r--r-- +1 +$(id -un) +supergroup +18 .* $dir/hello.txt\$" <<<"$ls" || { echo "unexpected -ls: $ls"; return 1; }
  [[ $(timeout 60 "$LAKEPIPE_HDFS_DFS" -cat "$dir/hello.txt") == $'hello hdfs\nline 2' ]]
}

hdfs_permission_denied() {
  need HDFS_NAMENODE && need LAKEPIPE_HDFS_DFS || return 1
  local out
  if out=$(HADOOP_USER_NAME=smoke-nobody timeout 60 "$LAKEPIPE_HDFS_DFS" -mkdir "/smoke-denied-$RUN_ID" 2>&1); then
    echo "mkdir as another user under / succeeded"; return 1
  fi
  grep -q 'Permission denied' <<<"$out" || { echo "$out"; return 1; }
}

trino_nation() {
  need PRESTO_SERVER && need LAKEPIPE_TRINO_CLI || return 1
  local n
  n=$(timeout 120 "$LAKEPIPE_TRINO_CLI" --server "$PRESTO_SERVER" --execute 'SELECT count(*) FROM tpch.tiny.nation') || return 1
  [[ $n == '"25"' ]] || { echo "got $n"; return 1; }
}

prestodb_nation() {
  need PRESTODB_SERVER && need LAKEPIPE_PRESTO_CLI || return 1
  local n
  n=$(timeout 120 "$LAKEPIPE_PRESTO_CLI" --server "$PRESTODB_SERVER" --execute 'SELECT count(*) FROM tpch.tiny.nation') || return 1
  [[ $n == '"25"' ]] || { echo "got $n"; return 1; }
}

# a Parquet file written with the venv's pyarrow, put into HDFS under $1
parquet_in_hdfs() {
  "$LAKEPIPE_PYTHON" -c '
import sys, pyarrow as pa, pyarrow.parquet as pq
pq.write_table(pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["one", "two", "three"]}), sys.argv[1])
' "$WORK/t.parquet" || return 1
  timeout 60 "$LAKEPIPE_HDFS_DFS" -mkdir -p "$1" && timeout 60 "$LAKEPIPE_HDFS_DFS" -put -f "$WORK/t.parquet" "$1/part-0.parquet"
}

trino_hive_parquet() {
  need PRESTO_SERVER && need HDFS_NAMENODE && need LAKEPIPE_PYTHON || return 1
  local dir=/smoke/trino-$RUN_ID table="hive.smoke.t_${RUN_ID//-/_}"
  parquet_in_hdfs "$dir" || return 1
  local out
  out=$(timeout 180 "$LAKEPIPE_TRINO_CLI" --server "$PRESTO_SERVER" --output-format TSV --execute "
    CREATE SCHEMA IF NOT EXISTS hive.smoke WITH (location = '$HDFS_NAMENODE/smoke/trino-schema');
    CREATE TABLE $table (id bigint, name varchar)
      WITH (external_location = '$HDFS_NAMENODE$dir', format = 'PARQUET');
    SELECT id, name FROM $table ORDER BY id;
    DROP TABLE $table") || { echo "$out"; return 1; }
  [[ $out == $'1\tone\n2\ttwo\n3\tthree' ]] || { echo "got: $out"; return 1; }
}

spark_external_parquet() {
  need HDFS_NAMENODE && need LAKEPIPE_SPARK_SQL || return 1
  local dir=/smoke/spark-$RUN_ID table="smoke_t_${RUN_ID//-/_}"
  parquet_in_hdfs "$dir" || return 1
  local out rc
  # the last statement fails: spark-sql must print the rows before it, then exit 1
  out=$(timeout 300 "$LAKEPIPE_SPARK_SQL" -e "
    CREATE EXTERNAL TABLE $table (id BIGINT, name STRING) STORED AS PARQUET
      LOCATION '$HDFS_NAMENODE$dir';
    SELECT id, name FROM $table ORDER BY id;
    DROP TABLE $table;
    SELECT * FROM no_such_table_$RANDOM" 2>"$WORK/spark.err")
  rc=$?
  [[ $out == $'1\tone\n2\ttwo\n3\tthree' ]] || { echo "got: $out"; tail -5 "$WORK/spark.err"; return 1; }
  ((rc == 1)) || { echo "exit status $rc for a failing statement, want 1"; return 1; }
  grep -q 'no_such_table' "$WORK/spark.err" || { echo "error not on stderr"; return 1; }
}

# one metastore for both engines: a table created by Spark SQL is read by Trino and the
# other way round (thrift on 127.0.0.1:9083, no other interface)
metastore_shared() {
  need HIVE_METASTORE && need PRESTO_SERVER && need LAKEPIPE_SPARK_SQL || return 1
  port_open "$METASTORE_PORT" || { echo "nothing on $METASTORE_PORT"; return 1; }
  ss -ltn "sport = :$METASTORE_PORT" | grep -q "127.0.0.1:$METASTORE_PORT" || { echo "not bound to loopback"; return 1; }
  local dir=/smoke/ms-$RUN_ID t="smoke_ms_${RUN_ID//-/_}" out
  parquet_in_hdfs "$dir/spark" && parquet_in_hdfs "$dir/trino" || return 1
  timeout 300 "$LAKEPIPE_SPARK_SQL" -e "
    CREATE DATABASE IF NOT EXISTS smoke_ms LOCATION '$HDFS_NAMENODE/smoke/ms-db';
    CREATE EXTERNAL TABLE smoke_ms.${t}_s (id BIGINT, name STRING) STORED AS PARQUET
      LOCATION '$HDFS_NAMENODE$dir/spark'" || return 1
  out=$(timeout 180 "$LAKEPIPE_TRINO_CLI" --server "$PRESTO_SERVER" --output-format TSV --execute "
    SELECT id, name FROM hive.smoke_ms.${t}_s ORDER BY id;
    CREATE TABLE hive.smoke_ms.${t}_t (id bigint, name varchar)
      WITH (external_location = '$HDFS_NAMENODE$dir/trino', format = 'PARQUET')") || { echo "$out"; return 1; }
  [[ $out == $'1\tone\n2\ttwo\n3\tthree' ]] || { echo "trino read: $out"; return 1; }
  out=$(timeout 300 "$LAKEPIPE_SPARK_SQL" -e "SELECT id, name FROM smoke_ms.${t}_t ORDER BY id;
    DROP TABLE smoke_ms.${t}_s; DROP TABLE smoke_ms.${t}_t") || return 1
  [[ $out == $'1\tone\n2\ttwo\n3\tthree' ]] || { echo "spark read: $out"; return 1; }
}

echo "# services smoke tests ($RUN_ID, $phase)"
if [[ $phase != teardown ]]; then
check "kafka: kcat produces and consumes 1000 messages" kafka_1000
check "kafka: kafka-topics creates a 3-partition topic" kafka_topics_3_partitions
check "hdfs: hdfs dfs -put, -ls, -cat" hdfs_put_ls_cat
check "hdfs: permission denied for another user" hdfs_permission_denied
check "trino: trino-cli count(*) tpch.tiny.nation = 25" trino_nation
check "prestodb: presto-cli count(*) tpch.tiny.nation = 25" prestodb_nation
check "trino: hive table over a Parquet file in HDFS" trino_hive_parquet
check "spark: external Parquet table on HDFS; exit 1 on a failing statement" spark_external_parquet
check "metastore: Spark SQL and Trino share tables through it (loopback only)" metastore_shared
fi

# ---- down.sh leaves nothing; a second up.sh downloads nothing --------------------------
read -r -a was_running <<<"${LAKEPIPE_SERVICES:-}"
pids=()
for svc in kafka hdfs metastore trino prestodb; do p=$(service_pid "$svc") && pids+=("$p"); done

down_clean() {
  bash "$SERVICES_DIR/down.sh" || return 1
  local p port svc
  for p in "${pids[@]}"; do [[ -d /proc/$p ]] && { echo "pid $p still alive"; return 1; }; done
  for svc in kafka hdfs metastore trino prestodb; do
    for port in $(service_ports "$svc"); do port_open "$port" && { echo "port $port still open"; return 1; }; done
  done
  ((${#pids[@]} > 0)) || { echo "no service was running before down.sh"; return 1; }
}

# up.sh again (all phases: restarting what was running; teardown: installing only)
up_again_no_download() {
  local before after files_before files_after
  ((${#was_running[@]} > 0)) || { echo "no service was running before the checks"; return 1; }
  before=$(wc -l <"$FETCH_LOG" 2>/dev/null || echo 0)
  # every mvn download lands in m2 (the cache may also hold other things, e.g. cargo's target)
  files_before=$(find "$CACHE/m2" -type f | wc -l)
  bash "$SERVICES_DIR/up.sh" "$@" "${was_running[@]}" || return 1
  after=$(wc -l <"$FETCH_LOG" 2>/dev/null || echo 0)
  files_after=$(find "$CACHE/m2" -type f | wc -l)
  [[ $before == "$after" && $files_before == "$files_after" ]] \
    || { echo "up.sh fetched again: fetch.log $before -> $after lines, files in m2 $files_before -> $files_after"; return 1; }
}

port_taken_fails_fast() {
  local lpid out rc t0=$SECONDS
  python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(120)' "$PRESTO_PORT" &
  lpid=$!
  for _ in $(seq 50); do port_open "$PRESTO_PORT" && break; sleep 0.1; done
  out=$(timeout 300 bash "$SERVICES_DIR/up.sh" prestodb 2>&1)
  rc=$?
  kill "$lpid"; wait "$lpid" 2>/dev/null
  ((rc != 0)) || { echo "up.sh prestodb succeeded with its port taken"; return 1; }
  grep -q "prestodb.*$(logfile prestodb)" <<<"$out" || { echo "message does not name the service and its log: $out"; return 1; }
  ((SECONDS - t0 < 60)) || { echo "took $((SECONDS - t0))s"; return 1; }
  echo "$out" | tail -1
}

if [[ $phase != services ]]; then
  check "down.sh: no started process left, ports free" down_clean
  check "up.sh: a taken port fails fast, naming the service and its log" port_taken_fails_fast
  if [[ $phase == teardown ]]; then
    check "up.sh --install-only again: everything from the cache, downloads nothing" up_again_no_download --install-only
  else
    check "up.sh again: restarts with the cache, downloads nothing" up_again_no_download
  fi
fi

echo "$passed passed, $failed failed"
((failed == 0))
