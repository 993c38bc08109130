#!/usr/bin/env bash
# Stop every service that services/up.sh started, by its recorded pid (never by name);
# waits until the processes are gone and their ports are free.
source "$(dirname "$0")/lib.sh"
lock_state

rc=0
# reverse start order: clients of HDFS (trino) go before it
for svc in prestodb trino metastore kafka hdfs; do
  stop_service "$svc"
done
rm -f "$STATE/spark.ok"
for svc in prestodb trino metastore kafka hdfs; do
  for port in $(service_ports "$svc"); do
    if ! wait_port_free "$port" 30; then
      log "port $port ($svc) is still in use after stopping; not by a process this script recorded?"
      rc=1
    fi
  done
done
write_env
((rc == 0)) && log "all services stopped"
exit "$rc"
