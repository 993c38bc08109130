#!/usr/bin/env bash
# One line per service: name, running/stopped, address, pid, log.
source "$(dirname "$0")/lib.sh"

printf '%-9s %-9s %-24s %-8s %-7s %s\n' SERVICE STATE ADDRESS PID RSS_MB LOG
for svc in "${ALL_SERVICES[@]}"; do
  pid=- rss=-
  if p=$(service_pid "$svc"); then
    pid=$p rss=$(rss_mb "$p")
    if "${svc}_healthy"; then st=running; else st=starting; fi
  else
    st=stopped
  fi
  printf '%-9s %-9s %-24s %-8s %-7s %s\n' "$svc" "$st" "$(service_address "$svc")" "$pid" "$rss" "$(logfile "$svc")"
done
