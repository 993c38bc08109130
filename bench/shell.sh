#!/usr/bin/env bash
# presto-q's interactive shell vs trino-cli's, in a real terminal (tmux, 120x40) on the
# shared Trino: seconds from start to the prompt, and from Enter to less's first page of
# SELECT * FROM tpch.sf1.lineitem (both use `less -FXRSn`). ROUNDS (default 5) runs each,
# taking turns; medians are reported.
source "$(dirname "$0")/lib.sh"
if [[ -z ${PRESTO_SERVER:-} || -z ${LAKEPIPE_TRINO_CLI:-} ]]; then
  bash "$ROOT/services/up.sh" trino >&2
  # shellcheck disable=SC1091
  source "$ROOT/services/.state/env.sh"
fi
command -v tmux >/dev/null || { echo "bench: tmux is missing (apt-get install tmux)" >&2; exit 1; }
PQ=$BIN/presto-q
ROUNDS=${ROUNDS:-5}
HIST=$(mktemp -d)
trap 'rm -rf "$HIST"' EXIT
SOCK=lakepipe-bench-shell-$$
SQL='SELECT * FROM tpch.sf1.lineitem'

now() { date +%s.%N; }

# last_line_matches REGEX: wait (at most 120 s) until the last non-blank line of the screen matches
last_line_matches() {
  local end=$((SECONDS + 120))
  while ((SECONDS < end)); do
    tmux -L "$SOCK" capture-pane -p | awk 'NF { l = $0 } END { print l }' | grep -Eq "$1" && return 0
    sleep 0.01
  done
  echo "bench: waited 120 s for /$1/ on the screen:" >&2
  tmux -L "$SOCK" capture-pane -p | tail -5 >&2
  return 1
}

# one_run PROMPT_REGEX CMD: prints "seconds-to-prompt seconds-to-first-page"
one_run() {
  local t0 t1 t2 t3 ok=0
  t0=$(now)
  tmux -L "$SOCK" -f /dev/null new-session -d -x 120 -y 40 "$2"
  if last_line_matches "$1"; then
    t1=$(now)
    tmux -L "$SOCK" send-keys -l "$SQL\\;"
    t2=$(now)
    tmux -L "$SOCK" send-keys Enter
    last_line_matches '^:$' && t3=$(now) && ok=1
  fi
  local path
  path=$(tmux -L "$SOCK" display-message -p '#{socket_path}' 2>/dev/null) || true
  tmux -L "$SOCK" send-keys q 2>/dev/null || true
  tmux -L "$SOCK" kill-server 2>/dev/null || true
  [[ $path == */"$SOCK" ]] && rm -f "$path"  # kill-server leaves the socket file
  ((ok)) || return 1
  echo "$(echo "$t1 - $t0" | bc) $(echo "$t3 - $t2" | bc)"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ w[NR] = $1 } END { print w[int((NR + 1) / 2)] }'; }

# warm the server (plans, JIT) so neither client pays for it
"$PQ" -q "SELECT count(*) FROM ($SQL LIMIT 1000)" >/dev/null

tools=(presto-q trino-cli)
prompts=('^presto>' '^trino>')
cmds=("env PRESTO_HISTORY_FILE=$HIST/pq $PQ --server $PRESTO_SERVER"
  "env TRINO_HISTORY_FILE=$HIST/trino $LAKEPIPE_TRINO_CLI --server $PRESTO_SERVER")
declare -A starts pages
for ((i = 0; i < ROUNDS; i++)); do
  for k in 0 1; do
    if r=$(one_run "${prompts[k]}" "${cmds[k]}"); then
      starts[$k]+=" ${r% *}"
      pages[$k]+=" ${r#* }"
    else
      echo "bench: ${tools[k]} failed" >&2
    fi
  done
done
echo "shell: start to prompt; Enter to the first page of $SQL (120x40 tmux, less -FXRSn)"
for k in 0 1; do
  # shellcheck disable=SC2086
  s=$(median ${starts[$k]:-}) p=$(median ${pages[$k]:-})
  printf 'shell-start\t%s\t%s\t-\nshell-first-page\t%s\t%s\t-\n' "${tools[k]}" "$s" "${tools[k]}" "$p" >>"$RESULTS"
  printf '  %-12s prompt %6.2f s  first page %6.2f s   (medians of %d; all: %s / %s)\n' \
    "${tools[k]}" "$s" "$p" "$ROUNDS" "${starts[$k]# }" "${pages[$k]# }"
done
