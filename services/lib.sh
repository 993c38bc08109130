# shellcheck shell=bash
# shellcheck disable=SC2034  # the versions and paths here are used by svc/*.sh and bin/*
# Shared plumbing for services/*.sh: paths, pinned versions, fetching into the cache,
# starting/stopping processes by recorded pid, health checks. Sourced, never run.
set -euo pipefail

SERVICES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${LAKEPIPE_CACHE:-$HOME/.cache/lakepipe}
STATE=$SERVICES_DIR/.state
LOGS=$STATE/logs
CONF=$STATE/conf              # HADOOP_CONF_DIR
FETCH_LOG=$CACHE/fetch.log     # one line per download; a warm up.sh adds none

# ---- pinned versions -------------------------------------------------------------
KAFKA_VERSION=4.4.0            # org.apache.kafka:kafka_2.13 (KRaft)
HADOOP_VERSION=3.5.0           # org.apache.hadoop:hadoop-client-minicluster
PRESTO_VERSION=0.287           # com.facebook.presto:presto-server: the newest tarball on Maven Central
PYSPARK_VERSION=4.3.0
PYARROW_VERSION=26.0.1
DUCKDB_VERSION=2.0.0
POLARS_VERSION=2.1.0
# Spark's Kafka source for bin/spark-py: 4.3.0 (pyspark's version) is not served by Maven
# Central, 4.2.0 runs on pyspark 4.3.0; kafka-clients and commons-pool2 as its POM pins them
SPARK_KAFKA_VERSION=4.2.0
SPARK_KAFKA_CLIENTS_VERSION=3.9.2
SPARK_COMMONS_POOL2_VERSION=2.13.1
MVN_DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

# ---- ports (loopback only) ---------------------------------------------------------
KAFKA_PORT=9092
KAFKA_CONTROLLER_PORT=9093
KAFKA_SASL_PORT=9094          # SASL_SSL listener (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER)
HDFS_PORT=9000
TRINO_PORT=8080
PRESTO_PORT=8081
METASTORE_PORT=9083

ALL_SERVICES=(kafka hdfs metastore trino prestodb spark)

JAVA17_HOME=${LAKEPIPE_JAVA17_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}
# Trino >= 476 needs Java 24+: take the newest Temurin/OpenJDK >= 24 on the machine.
find_new_java() {
  local d v best="" bestv=0
  for d in /usr/lib/jvm/*/; do
    d=${d%/}
    [[ -x $d/bin/java ]] || continue
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$d/release" 2>/dev/null || true)
    [[ -n $v && $v -ge 24 && $v -gt $bestv ]] && { best=$d; bestv=$v; }
  done
  echo "$best"
}
JAVA_NEW_HOME=${LAKEPIPE_JAVA_NEW_HOME:-$(find_new_java)}
[[ $JAVA_NEW_HOME == none ]] && JAVA_NEW_HOME=""
# io.trino:trino-server tar.gz and trino-cli. The server needs Java 24+ (no fallback here:
# trino-server 435, the last on Java 17, is not served by this machine's registry).
TRINO_VERSION=476
TRINO_JAVA_HOME=$JAVA_NEW_HOME

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE" "$STATE" "$LOGS" "$CONF"

# ---- fetching (Maven Central through mvn, checksums enforced with -C) ---------------
# one retry after a pause: a registry time-out should not fail a cold CI run
mvn_() {
  mvn -B -q -C -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" "$@" \
    || { sleep 5; mvn -B -q -C -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" "$@"; }
}

# record a download: name, seconds, size
note_fetch() {
  local what=$1 secs=$2 path=$3 size
  size=$(du -sm "$path" 2>/dev/null | cut -f1)
  printf '%s\t%s\t%ss\t%sMB\n' "$(date -u +%FT%TZ)" "$what" "$secs" "$size" >>"$FETCH_LOG"
  log "fetched $what in ${secs}s (${size} MB)"
}

# mvn_artifact G:A:V[:TYPE[:CLASSIFIER]] -> prints the path of the file in the cache repo,
# downloading (checksum-verified) only when it is not there yet.
mvn_artifact() {
  local coord=$1 g a v t c f
  IFS=: read -r g a v t c <<<"$coord"
  t=${t:-jar}
  f="$CACHE/m2/${g//.//}/$a/$v/$a-$v${c:+-$c}.$t"
  if [[ ! -s $f ]]; then
    local t0=$SECONDS
    log "downloading $coord"
    mvn_ "$MVN_DEP_PLUGIN:get" -Dtransitive=false -Dartifact="$g:$a:$v:$t${c:+:$c}" \
      >"$CACHE/mvn-get.log" 2>&1 \
      || { grep ERROR "$CACHE/mvn-get.log" | head -3 >&2; die "download of $coord failed (see $CACHE/mvn-get.log)"; }
    [[ -s $f ]] || die "download of $coord did not produce $f"
    note_fetch "$coord" $((SECONDS - t0)) "$f"
  fi
  echo "$f"
}

# mvn_classpath DIR 'G:A:V[:scope]' ... -> DIR/lib holds the jars of these artifacts and
# their runtime dependencies (resolved by mvn from a generated pom in DIR).
mvn_classpath() {
  local dir=$1; shift
  [[ -f $dir/.done && $(cat "$dir/.done") == "$*" ]] && return 0
  local t0=$SECONDS deps="" spec g a v
  rm -rf "$dir"; mkdir -p "$dir"
  for spec in "$@"; do
    IFS=: read -r g a v <<<"$spec"
    deps+="<dependency><groupId>$g</groupId><artifactId>$a</artifactId><version>$v</version></dependency>"
  done
  cat >"$dir/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>lakepipe.services</groupId><artifactId>$(basename "$dir")</artifactId><version>1</version>
<packaging>pom</packaging><dependencies>$deps</dependencies></project>
EOF
  log "resolving $(basename "$dir") jars: $*"
  (cd "$dir" && mvn_ "$MVN_DEP_PLUGIN:copy-dependencies" -DincludeScope=runtime \
      -DoutputDirectory="$dir/lib" >"$dir/mvn.log" 2>&1) \
    || { tail -20 "$dir/mvn.log" >&2; die "resolving $(basename "$dir") failed (see $dir/mvn.log)"; }
  echo "$*" >"$dir/.done"
  note_fetch "$(basename "$dir") classpath" $((SECONDS - t0)) "$dir/lib"
}

# unpack_once ARCHIVE DEST [MEMBER-PATTERN...]: unpack a tar.gz (only the members matching
# the patterns, if any) into DEST once, stripping its single top folder; the archive is
# deleted afterwards (DEST/.done is what marks it installed)
unpack_once() {
  local archive=$1 dest=$2; shift 2
  [[ -f $dest/.done ]] && return 0
  rm -rf "$dest" "$dest.tmp"; mkdir -p "$dest.tmp"
  if (($#)); then tar -xzf "$archive" -C "$dest.tmp" --wildcards "$@"
  else tar -xzf "$archive" -C "$dest.tmp"; fi
  local top
  top=$(find "$dest.tmp" -mindepth 1 -maxdepth 1)
  if [[ $(wc -l <<<"$top") -eq 1 && -d $top ]]; then mv "$top" "$dest"; rm -rf "$dest.tmp"
  else mv "$dest.tmp" "$dest"; fi
  touch "$dest/.done"
  rm -f "$archive"
}

# ---- process bookkeeping -----------------------------------------------------------
pidfile() { echo "$STATE/$1.pid"; }
logfile() { echo "$LOGS/$1.log"; }

proc_start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null || true; }

# prints the recorded pid of SERVICE if that very process (same start time) is alive
service_pid() {
  local f pid st
  f=$(pidfile "$1")
  [[ -f $f ]] || return 1
  read -r pid st <"$f" || return 1
  [[ -n ${pid:-} && -d /proc/$pid ]] || return 1
  [[ $(proc_start_time "$pid") == "$st" ]] || return 1
  echo "$pid"
}

record_pid() { echo "$2 $(proc_start_time "$2")" >"$(pidfile "$1")"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port_free() {
  local port=$1 secs=${2:-30} i
  for ((i = 0; i < secs * 5; i++)); do port_open "$port" || return 0; sleep 0.2; done
  return 1
}

# up.sh and down.sh hold this lock (fd 8) so that concurrent calls (say, from parallel
# tests) take turns instead of racing for the same ports
lock_state() {
  exec 8>"$STATE/.lock"
  flock 8
}

# launch SERVICE: runs "$@" detached in its own session, output to its log, pid recorded
# (fd 8 is closed for it: a daemon must not keep holding the lock)
launch() {
  local svc=$1; shift
  local lf; lf=$(logfile "$svc")
  : >"$lf"
  setsid "$@" </dev/null >>"$lf" 2>&1 8>&- &
  record_pid "$svc" $!
  echo "$!"
}

# wait_healthy SERVICE TIMEOUT CHECK...: polls CHECK until it succeeds; fails with a clear
# message if the process dies or the timeout passes.
wait_healthy() {
  local svc=$1 timeout=$2; shift 2
  local t0=$SECONDS lf pid
  lf=$(logfile "$svc")
  while :; do
    if ! pid=$(service_pid "$svc"); then
      tail -15 "$lf" >&2 || true
      die "$svc exited during start-up; see its log: $lf"
    fi
    if "$@" >/dev/null 2>&1; then
      log "$svc healthy after $((SECONDS - t0))s (pid $pid, log $lf)"
      return 0
    fi
    if ((SECONDS - t0 >= timeout)); then
      tail -15 "$lf" >&2 || true
      stop_service "$svc" || true
      die "$svc not healthy within ${timeout}s; see its log: $lf"
    fi
    sleep 1
  done
}

# fail early and clearly if another process holds a port this service needs
require_port_free() {
  local svc=$1 port
  shift
  for port in "$@"; do
    port_open "$port" && die "$svc cannot start: port 127.0.0.1:$port is already in use (by a process not started by services/up.sh?); its log would be $(logfile "$svc")"
  done
  return 0
}

# stop SERVICE by its recorded pid: TERM, wait, then KILL; waits until it is gone
stop_service() {
  local svc=$1 pid i pgid
  if pid=$(service_pid "$svc"); then
    log "stopping $svc (pid $pid)"
    # the process was started with setsid: it leads its own process group
    pgid=$(ps -o pgid= -p "$pid" | tr -d ' ')
    if [[ $pgid == "$pid" ]]; then kill -TERM -- "-$pid" 2>/dev/null || true
    else kill -TERM "$pid" 2>/dev/null || true; fi
    for ((i = 0; i < 150; i++)); do [[ -d /proc/$pid ]] || break; sleep 0.2; done
    if [[ -d /proc/$pid ]]; then
      log "$svc did not stop in 30s; killing pid $pid"
      if [[ $pgid == "$pid" ]]; then kill -KILL -- "-$pid" 2>/dev/null || true
      else kill -KILL "$pid" 2>/dev/null || true; fi
      for ((i = 0; i < 50; i++)); do [[ -d /proc/$pid ]] || break; sleep 0.2; done
    fi
  fi
  rm -f "$(pidfile "$svc")"
}

rss_mb() { awk '/VmRSS/ {printf "%d", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }

# the services themselves: install_X, start_X, X_healthy for each
for _svc_file in "$SERVICES_DIR"/svc/*.sh; do
  # shellcheck source=/dev/null
  source "$_svc_file"
done
unset _svc_file

# ---- service table -----------------------------------------------------------------
# services a service needs started first
service_deps() {
  case $1 in
    metastore) echo hdfs ;;
    trino | spark) echo metastore ;;
    *) ;;
  esac
}

service_address() {
  case $1 in
    kafka) echo "127.0.0.1:$KAFKA_PORT" ;;
    hdfs) echo "hdfs://127.0.0.1:$HDFS_PORT" ;;
    metastore) echo "thrift://127.0.0.1:$METASTORE_PORT" ;;
    trino) echo "http://127.0.0.1:$TRINO_PORT" ;;
    prestodb) echo "http://127.0.0.1:$PRESTO_PORT" ;;
    spark) echo "$SPARK_SOCKET" ;;
  esac
}

# ports a service listens on (checked free before start and after stop)
service_ports() {
  case $1 in
    kafka) echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT $KAFKA_SASL_PORT" ;;
    hdfs) echo "$HDFS_PORT" ;;
    metastore) echo "$METASTORE_PORT" ;;
    trino) echo "$TRINO_PORT" ;;
    prestodb) echo "$PRESTO_PORT" ;;
  esac
}

service_running() {
  service_pid "$1" >/dev/null && "${1}_healthy"
}

# ---- reference clients -------------------------------------------------------------
install_kcat() {
  command -v kcat >/dev/null && return 0
  local t0=$SECONDS sudo=""
  [[ $(id -u) == 0 ]] || sudo=sudo
  log "installing kcat (Debian package)"
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq kcat; } \
    >"$LOGS/apt-kcat.log" 2>&1 || { tail -5 "$LOGS/apt-kcat.log" >&2; die "apt-get install kcat failed"; }
  note_fetch "kcat (apt)" $((SECONDS - t0)) "$(command -v kcat)"
}

install_clients() {
  install_kcat
  install_kafka
  install_hdfs
  install_trino_cli
  install_presto_cli
  install_python
}

# ---- env.sh --------------------------------------------------------------------------
write_env() {
  local f=$STATE/env.sh svc running=()
  for svc in "${ALL_SERVICES[@]}"; do service_running "$svc" && running+=("$svc"); done
  {
    echo "# written by services/up.sh and down.sh on $(date -u +%FT%TZ); source it"
    echo "export LAKEPIPE_SERVICES='${running[*]}'"
    echo "export LAKEPIPE_CACHE='$CACHE'"
    echo "export LAKEPIPE_SERVICES_LOGS='$LOGS'"
    for svc in "${running[@]}"; do
      case $svc in
        kafka)
          echo "export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
          echo "export KAFKA_SASL_BROKERS=127.0.0.1:$KAFKA_SASL_PORT"
          echo "export KAFKA_CA='$KAFKA_TLS/ca.pem'"
          echo "export KAFKA_SASL_USER=$KAFKA_SASL_USER"
          echo "export KAFKA_SASL_PASSWORD=$(kafka_sasl_password)"
          ;;
        hdfs)
          echo "export HDFS_NAMENODE=hdfs://127.0.0.1:$HDFS_PORT"
          echo "export HADOOP_CONF_DIR='$CONF'"
          ;;
        metastore) echo "export HIVE_METASTORE=thrift://127.0.0.1:$METASTORE_PORT" ;;
        trino) echo "export PRESTO_SERVER=http://127.0.0.1:$TRINO_PORT" ;;
        prestodb) echo "export PRESTODB_SERVER=http://127.0.0.1:$PRESTO_PORT" ;;
      esac
    done
    command -v kcat >/dev/null && echo "export LAKEPIPE_KCAT='$(command -v kcat)'"
    [[ -f $KAFKA_HOME/.done ]] && echo "export LAKEPIPE_KAFKA_TOPICS='$SERVICES_DIR/bin/kafka-topics'"
    [[ -f $HADOOP_HOME/.done ]] && echo "export LAKEPIPE_HDFS_DFS='$SERVICES_DIR/bin/hdfs-dfs'"
    [[ -s $TRINO_CLI_JAR ]] && echo "export LAKEPIPE_TRINO_CLI='$SERVICES_DIR/bin/trino-cli'"
    [[ -s $PRESTO_CLI_JAR ]] && echo "export LAKEPIPE_PRESTO_CLI='$SERVICES_DIR/bin/presto-cli'"
    if [[ -f $VENV/.done ]]; then
      echo "export LAKEPIPE_PYTHON='$VENV_PY'"
      echo "export LAKEPIPE_SPARK_SQL='$SERVICES_DIR/bin/spark-sql'"
    fi
  } >"$f.tmp"
  mv "$f.tmp" "$f"
}
