#!/usr/bin/env bash
# presto-q vs trino-cli on the shared Trino: start-up cost (SELECT 1, 20 times) and
# streaming throughput (tpch.sf1.lineitem, 6,001,215 rows, CSV into /dev/null).
source "$(dirname "$0")/lib.sh"
if [[ -z ${PRESTO_SERVER:-} || -z ${LAKEPIPE_TRINO_CLI:-} ]]; then
  bash "$ROOT/services/up.sh" trino >&2
  # shellcheck disable=SC1091
  source "$ROOT/services/.state/env.sh"
fi
PQ=$BIN/presto-q
TRINO_CLI=$LAKEPIPE_TRINO_CLI
# warm the server (plans, JIT) so neither client pays for it
"$PQ" -q 'SELECT 1' >/dev/null

echo "presto: SELECT 1, 20 times"
measure presto-select1 presto-q "for i in \$(seq 20); do $PQ -q 'SELECT 1'; done"
measure presto-select1 trino-cli "for i in \$(seq 20); do $TRINO_CLI --execute 'SELECT 1'; done"
report presto-select1 presto-q 20

echo "presto: SELECT * FROM tpch.sf1.lineitem to CSV"
measure presto-lineitem presto-q "$PQ -q -o csv 'SELECT * FROM tpch.sf1.lineitem' >/dev/null"
measure presto-lineitem trino-cli "$TRINO_CLI --output-format CSV --execute 'SELECT * FROM tpch.sf1.lineitem' >/dev/null"
report presto-lineitem presto-q 6001215
