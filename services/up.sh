#!/usr/bin/env bash
# Start lakepipe's real services on 127.0.0.1: services/up.sh [--install-only] [kafka hdfs
# metastore trino prestodb spark] (none = all). Fetches pinned versions into
# ${LAKEPIPE_CACHE:-~/.cache/lakepipe} once, installs the reference clients, leaves healthy
# running services alone, and writes services/.state/env.sh. --install-only stops after
# the downloads and installs (nothing is started).
source "$(dirname "$0")/lib.sh"
lock_state

install_only=false
if [[ ${1:-} == --install-only ]]; then install_only=true; shift; fi
want=("$@")
((${#want[@]})) || want=("${ALL_SERVICES[@]}")
order=()
add() {
  local s d
  for s in "$@"; do
    [[ " ${ALL_SERVICES[*]} " == *" $s "* ]] || die "unknown service '$s' (known: ${ALL_SERVICES[*]})"
    [[ " ${order[*]} " == *" $s "* ]] && continue
    for d in $(service_deps "$s"); do add "$d"; done
    order+=("$s")
  done
}
add "${want[@]}"

t_all=$SECONDS
install_clients
for svc in "${order[@]}"; do "install_$svc"; done
if $install_only; then
  log "installed in $((SECONDS - t_all))s: ${order[*]} (nothing started: --install-only)"
  exit 0
fi
log "installed in $((SECONDS - t_all))s; starting: ${order[*]}"

for svc in "${order[@]}"; do
  if pid=$(service_pid "$svc"); then
    if "${svc}_healthy"; then
      log "$svc already running (pid $pid)"
      continue
    fi
    # started earlier and maybe still coming up: give it the same time a fresh start gets
    log "$svc (pid $pid) is running but not healthy yet; waiting"
    case $svc in kafka) t=90 ;; hdfs) t=120 ;; *) t=240 ;; esac
    wait_healthy "$svc" "$t" "${svc}_healthy"
    continue
  fi
  t0=$SECONDS
  "start_$svc"
  echo "$(date -u +%FT%TZ) $svc started in $((SECONDS - t0))s" >>"$LOGS/starts.log"
done
write_env
log "up in $((SECONDS - t_all))s: ${order[*]}; env: $STATE/env.sh"
