#!/usr/bin/env bash
# jq-lite against Debian's jq 1.6 and the jaq 3.1 CLI on the same generated lab
# events, in one run: rows/s, ratios and peak RSS for a select, the identity and a projection.
source "$(dirname "$0")/lib.sh"
ROWS=${BENCH_ROWS:-1000000}
EV=$(events "$ROWS")
command -v jq >/dev/null || { echo "bench: jq is missing: apt-get install jq" >&2; exit 1; }
# jaq from crates.io, built once into the cache (JAQ=/path/to/jaq to use another)
JAQ_ROOT=${LAKEPIPE_CACHE:-$HOME/.cache/lakepipe}/jaq-3.1
JAQ=${JAQ:-$JAQ_ROOT/bin/jaq}
if [[ ! -x $JAQ ]]; then
  echo "installing the jaq 3.1 CLI into $JAQ_ROOT (cargo install, once)" >&2
  cargo install --quiet --locked --version '~3.1' --root "$JAQ_ROOT" jaq >&2
fi
echo "== jq-lite on $ROWS events ($(du -m "$EV" | cut -f1) MB) into /dev/null"
i=0
for f in 'select(.event_type == "purchase_sword")' '.' '{event_type, Host, uid: .user.id}'; do
  i=$((i + 1))
  g="jq-$i"
  echo "-- $f"
  q=$(printf '%q' "$f")
  # the file as an argument: jaq's fast path (it reads the whole file first; from a pipe it
  # streams, at half the speed)
  measure "$g" jq-lite "$BIN/jq-lite -c $q $EV"
  measure "$g" jq "jq -c $q $EV"
  measure "$g" jaq "$JAQ -c $q $EV"
  report "$g" jq-lite "$ROWS"
done
