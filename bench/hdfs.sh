#!/usr/bin/env bash
# hdfs-ls against `hdfs dfs -ls` (JVM) and colinmarc's Go client, and pq-write to HDFS
# against pq-write to local disk. Needs the MiniDFSCluster (services/up.sh hdfs).
source "$(dirname "$0")/lib.sh"
needs_python
if [[ -z ${HDFS_NAMENODE:-} ]]; then
  bash "$ROOT/services/up.sh" hdfs >&2
  # shellcheck disable=SC1091
  source "$ROOT/services/.state/env.sh"
fi
[[ -n ${HDFS_NAMENODE:-} ]] || { echo "bench: HDFS is not running; run make services-up" >&2; exit 1; }
DFS=$LAKEPIPE_HDFS_DFS
GOHDFS=${LAKEPIPE_CACHE:-$HOME/.cache/lakepipe}/go/bin/hdfs
if [[ ! -x $GOHDFS ]]; then
  echo "== installing colinmarc/hdfs (Go module proxy)" >&2
  GOBIN=$(dirname "$GOHDFS") go install github.com/colinmarc/hdfs/v2/cmd/hdfs@latest
fi
export HADOOP_NAMENODE=${HDFS_NAMENODE#hdfs://}
N=10000
B=/lakepipe-bench

# The data is made once and kept: 10,000 empty files in one folder, and a tree of
# 100 folders x 99 files (10,000 entries). One FsShell call each (one JVM start).
if ! "$BIN/hdfs-ls" -d "$B/flat" "$B/tree" >/dev/null 2>&1; then
  echo "== creating $B/flat ($N files) and $B/tree ($N entries)" >&2
  "$DFS" -rm -r -f "$B" >/dev/null 2>&1 || true
  "$DFS" -mkdir -p "$B/flat" $(seq -f "$B/tree/d%03g" 0 99)
  "$DFS" -touchz $(seq -f "$B/flat/file-%05g.dat" 0 $((N - 1)))
  "$DFS" -touchz $(for d in $(seq -f "%03g" 0 99); do seq -f "$B/tree/d$d/f%02g" 0 98; done)
fi

echo "== list a folder of $N files"
"$BIN/hdfs-ls" "$B/flat" >/dev/null # warm the namenode's caches
REPEAT=5 measure ls-flat hdfs-ls "$BIN/hdfs-ls $B/flat"
REPEAT=5 measure ls-flat "hdfs dfs -ls" "$DFS -ls $B/flat"
REPEAT=5 measure ls-flat "go hdfs ls -l" "$GOHDFS ls -l $B/flat"
report ls-flat hdfs-ls "$N"

echo "== -R over a tree of $N entries"
REPEAT=5 measure ls-tree hdfs-ls "$BIN/hdfs-ls -R $B/tree"
REPEAT=5 measure ls-tree "hdfs dfs -ls -R" "$DFS -ls -R $B/tree"
REPEAT=5 measure ls-tree "go hdfs ls -lR" "$GOHDFS ls -lR $B/tree"
report ls-tree hdfs-ls "$N"

ROWS=${BENCH_ROWS:-1000000}
EV=$(events "$ROWS")
W=$OUT/hdfs
rm -rf "$W" && mkdir -p "$W"
echo "== pq-write $ROWS events: HDFS vs local disk"
measure_rr pqw-hdfs 5 \
  "pq-write local" "$BIN/pq-write -q -i $EV --overwrite $W/events.parquet" \
  "pq-write hdfs" "$BIN/pq-write -q -i $EV --overwrite $HDFS_NAMENODE$B/events.parquet"
report pqw-hdfs "pq-write hdfs" "$ROWS"
rm -rf "$W"
