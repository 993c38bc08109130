# shellcheck shell=bash
# shellcheck disable=SC2034  # paths used by bin/* and lib.sh
# Trino: single-node coordinator from io.trino:trino-server (tar.gz on Maven Central), run
# straight with java (no launcher); catalogs tpch, memory and hive (the metastore service, on HDFS).
TRINO_HOME=$CACHE/trino-server-$TRINO_VERSION
TRINO_ETC=$STATE/trino/etc
TRINO_CLI_JAR=$CACHE/m2/io/trino/trino-cli/$TRINO_VERSION/trino-cli-$TRINO_VERSION-executable.jar

install_trino() {
  # installs from before plugin-extra/ existed are unpacked again
  [[ -d $TRINO_HOME/plugin-extra/password-authenticators ]] || rm -f "$TRINO_HOME/.done"
  if [[ ! -f $TRINO_HOME/.done ]]; then
    local tgz
    tgz=$(mvn_artifact "io.trino:trino-server:$TRINO_VERSION:tar.gz")
    # whole: its jars are hard links across plugin folders
    unpack_once "$tgz" "$TRINO_HOME"
    # keep only the plugins we configure: start-up loads every plugin folder. The password
    # authenticators (file, LDAP) go aside for presto-q's HTTPS + password test, which
    # links them into its own server's plugin folder.
    local p
    mkdir -p "$TRINO_HOME/plugin-extra"
    for p in "$TRINO_HOME"/plugin/*/; do
      case $(basename "$p") in
        hive | tpch | memory) ;;
        password-authenticators) mv "$p" "$TRINO_HOME/plugin-extra/" ;;
        *) rm -rf "$p" ;;
      esac
    done
  fi
  install_trino_cli
}

install_trino_cli() {
  mvn_artifact "io.trino:trino-cli:$TRINO_VERSION:jar:executable" >/dev/null
}

trino_config() {
  mkdir -p "$TRINO_ETC/catalog" "$STATE/trino/var"
  cat >"$TRINO_ETC/config.properties" <<CONF
node.environment=lakepipe
node.id=lakepipe-trino
node.bind-ip=127.0.0.1
node.internal-address=127.0.0.1
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$TRINO_PORT
http-server.log.enabled=false
discovery.uri=http://127.0.0.1:$TRINO_PORT
plugin.dir=$TRINO_HOME/plugin
catalog.config-dir=$TRINO_ETC/catalog
query.max-memory=1GB
query.max-memory-per-node=512MB
task.concurrency=2
CONF
  echo "connector.name=tpch" >"$TRINO_ETC/catalog/tpch.properties"
  printf 'connector.name=memory\nmemory.max-data-per-node=256MB\n' >"$TRINO_ETC/catalog/memory.properties"
  cat >"$TRINO_ETC/catalog/hive.properties" <<CONF
connector.name=hive
hive.metastore=thrift
hive.metastore.uri=thrift://127.0.0.1:$METASTORE_PORT
fs.hadoop.enabled=true
hive.config.resources=$CONF/core-site.xml,$CONF/hdfs-site.xml
hive.non-managed-table-writes-enabled=true
CONF
  echo "io.trino=INFO" >"$TRINO_ETC/log.properties"
}

# Ready only when it serves: a fresh Trino says "starting":false before its worker has
# announced itself, and answers queries with "No nodes available to run query" until then.
trino_healthy() {
  curl -sf "http://127.0.0.1:$TRINO_PORT/v1/info" | grep -q '"starting":false' && trino_serves
}

# SELECT 1 through the client protocol, followed to its end: true when it finishes.
trino_serves() {
  local out next _
  out=$(curl -sf -X POST -H 'X-Trino-User: lakepipe-health' --data 'SELECT 1' \
    "http://127.0.0.1:$TRINO_PORT/v1/statement") || return 1
  for _ in $(seq 100); do
    grep -q '"error"' <<<"$out" && return 1
    next=$(sed -n 's/.*"nextUri":"\([^"]*\)".*/\1/p' <<<"$out")
    [[ -z $next ]] && { grep -q '"state":"FINISHED"' <<<"$out"; return; }
    sleep 0.05
    out=$(curl -sf "$next") || return 1
  done
  return 1
}

start_trino() {
  [[ -n $TRINO_JAVA_HOME ]] || die "trino cannot start: Trino $TRINO_VERSION needs Java 24+ and none was found under /usr/lib/jvm (set LAKEPIPE_JAVA_NEW_HOME); log would be $(logfile trino)"
  require_port_free trino "$TRINO_PORT"
  trino_config
  (cd "$STATE/trino/var" && launch trino "$TRINO_JAVA_HOME/bin/java" -server -Xmx2G -XX:+UseG1GC \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -XX:-OmitStackTraceInFastThrow \
    -XX:ReservedCodeCacheSize=256M -XX:PerMethodRecompilationCutoff=10000 \
    -XX:PerBytecodeRecompilationCutoff=10000 -Djdk.attach.allowAttachSelf=true \
    -Djdk.nio.maxCachedBufferSize=2000000 -Dfile.encoding=UTF-8 -XX:+IgnoreUnrecognizedVMOptions -XX:+EnableDynamicAgentLoading \
    -Dconfig="$TRINO_ETC/config.properties" -Dlog.levels-file="$TRINO_ETC/log.properties" \
    -cp "$TRINO_HOME/lib/*" io.trino.server.TrinoServer >/dev/null)
  wait_healthy trino 240 trino_healthy
}
