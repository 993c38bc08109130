#!/usr/bin/env bash
# Restart one service with its data kept: services/restart.sh [--down-for SECS] SERVICE.
# Stops it by its recorded pid (services/down.sh SERVICE), keeps it down for SECS (default
# 0), starts it again (services/up.sh SERVICE) and returns once it serves, as after a first
# start. HDFS restarts whole (namenode and datanodes): MiniDFSCluster runs them in one
# JVM, so a datanode alone cannot be restarted from outside; MiniHdfs keeps its name and
# data dirs (it formats only an empty folder).
set -euo pipefail
here=$(dirname "$0")
down_for=0
if [[ ${1:-} == --down-for ]]; then down_for=$2; shift 2; fi
[[ $# -eq 1 ]] || { echo "usage: services/restart.sh [--down-for SECS] SERVICE" >&2; exit 2; }
t0=$(date +%s.%N)
bash "$here/down.sh" "$1"
sleep "$down_for"
t1=$(date +%s.%N)
bash "$here/up.sh" "$1"
t2=$(date +%s.%N)
awk -v s="$1" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
  printf "[services] %s restarted: down %.1fs, back up (serving) in %.1fs\n", s, b - a, c - b }' >&2
