#!/usr/bin/env bash
# jq-lite against its peers (Debian's jq, and the jaq CLI when installed) on the same
# 1M generated lab events, in one run: wall seconds, peak RSS, and jq-lite's speed-up.
#
#   BIN=target/release bash bench/jq.sh            # N=1000000 by default
#   N=200000 JAQ=/path/to/jaq bash bench/jq.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BIN=${BIN:-$here/../target/release}
N=${N:-1000000}
DATA=${DATA:-/tmp/lakepipe-events-$N.jsonl}
JQ_LITE=$BIN/jq-lite
JAQ=${JAQ:-$(command -v jaq || true)}

[[ -x $JQ_LITE ]] || { echo "jq-lite not built at $JQ_LITE (make build)" >&2; exit 1; }
command -v jq >/dev/null || { echo "jq is missing: apt-get install jq" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "/usr/bin/time is missing: apt-get install time" >&2; exit 1; }
if [[ ! -s $DATA ]]; then
    echo "generating $N events into $DATA" >&2
    python3 "$here/gen_events.py" "$N" > "$DATA.tmp" && mv "$DATA.tmp" "$DATA"
fi

FILTERS=(
    'select(.event_type == "purchase_sword")'
    '.'
    '{event_type, Host, uid: .user.id}'
)

# measure TOOL ARGS...: prints "wall_s rss_mb" (output to /dev/null)
TIMES=$(mktemp)
trap 'rm -f "$TIMES"' EXIT
measure() {
    /usr/bin/time -o "$TIMES" -f '%e %M' "$@" "$DATA" > /dev/null 2> /dev/null || true
    awk '{ printf "%.2f %.1f\n", $1, $2 / 1024 }' "$TIMES"
}

echo "data: $DATA ($(wc -l < "$DATA") lines, $(du -m "$DATA" | cut -f1) MB); $(nproc) cores"
printf '%-40s %-8s %8s %9s %s\n' filter tool wall_s rss_MB "jq-lite speed-up"
for f in "${FILTERS[@]}"; do
    read -r lw lm < <(measure "$JQ_LITE" "$f")
    printf '%-40s %-8s %8s %9s\n' "$f" jq-lite "$lw" "$lm"
    peers=(jq)
    [[ -n $JAQ ]] && peers+=(jaq)
    for p in "${peers[@]}"; do
        if [[ $p == jq ]]; then read -r w m < <(measure jq -c "$f"); else read -r w m < <(measure "$JAQ" -c "$f"); fi
        ratio=$(awk -v a="$w" -v b="$lw" 'BEGIN { printf "%.1fx", (b > 0 ? a / b : 0) }')
        printf '%-40s %-8s %8s %9s %s\n' "" "$p" "$w" "$m" "$ratio faster than $p"
    done
done
[[ -n $JAQ ]] || echo "(jaq not found: set JAQ=/path/to/jaq or cargo install jaq --locked to compare)"
