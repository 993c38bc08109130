#!/usr/bin/env bash
# Stop the services that services/up.sh started, by their recorded pids (never by name);
# waits until the processes are gone and their ports are free. services/down.sh [SERVICE...]
# (none = all): one service stops alone with its data kept (Kafka's log dir, HDFS's name
# and data dirs, the metastore's Derby db), and `services/up.sh SERVICE` starts it again,
# so a test can keep a service down as long as it likes (services/restart.sh does both).
source "$(dirname "$0")/lib.sh"
lock_state

rc=0
# reverse start order: clients of HDFS (trino, spark) go before it
stop=(spark prestodb trino metastore kafka hdfs)
if (($#)); then
  for s in "$@"; do
    [[ " ${stop[*]} " == *" $s "* ]] || die "unknown service '$s' (known: ${stop[*]})"
  done
  stop=("$@")
fi
for svc in "${stop[@]}"; do
  stop_service "$svc"
done
for svc in "${stop[@]}"; do
  for port in $(service_ports "$svc"); do
    if ! wait_port_free "$port" 30; then
      log "port $port ($svc) is still in use after stopping; not by a process this script recorded?"
      rc=1
    fi
  done
done
write_env
((rc == 0)) && log "stopped: ${stop[*]}"
exit "$rc"
