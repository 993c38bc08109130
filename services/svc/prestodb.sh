# shellcheck shell=bash
# shellcheck disable=SC2034  # paths used by bin/* and lib.sh
# PrestoDB: single-node coordinator from com.facebook.presto:presto-server (tar.gz on Maven
# Central; 0.287 is the newest there) on Java 17, with a tpch catalog.
PRESTO_HOME=$CACHE/presto-server-$PRESTO_VERSION
PRESTO_ETC=$STATE/prestodb/etc
# 0.287 ships ASM 9.0, which cannot read Java 17 class files (major version 61): newer ASM
# jars go first on the classpath.
PRESTO_ASM=$CACHE/presto-asm-9.7.1
PRESTO_CLI_JAR=$CACHE/m2/com/facebook/presto/presto-cli/$PRESTO_VERSION/presto-cli-$PRESTO_VERSION-executable.jar

install_prestodb() {
  mvn_classpath "$PRESTO_ASM" org.ow2.asm:asm:9.7.1 org.ow2.asm:asm-tree:9.7.1 \
    org.ow2.asm:asm-analysis:9.7.1 org.ow2.asm:asm-util:9.7.1
  install_presto_cli
  [[ -f $PRESTO_HOME/.done ]] && return 0
  local tgz
  tgz=$(mvn_artifact "com.facebook.presto:presto-server:$PRESTO_VERSION:tar.gz")
  # only the server's jars and the tpch plugin: 154 MB of the 2 GB tarball
  unpack_once "$tgz" "$PRESTO_HOME" '*/lib/*' '*/plugin/tpch/*'

}

# trino-cli cannot talk to PrestoDB (it sends X-Trino-* headers): presto-cli is its client.
install_presto_cli() {
  mvn_artifact "com.facebook.presto:presto-cli:$PRESTO_VERSION:jar:executable" >/dev/null
}

prestodb_config() {
  mkdir -p "$PRESTO_ETC/catalog" "$STATE/prestodb/data"
  cat >"$PRESTO_ETC/config.properties" <<CONF
node.environment=lakepipe
node.id=lakepipe-prestodb
node.bind-ip=127.0.0.1
node.internal-address=127.0.0.1
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$PRESTO_PORT
http-server.log.enabled=false
discovery-server.enabled=true
discovery.uri=http://127.0.0.1:$PRESTO_PORT
plugin.dir=$PRESTO_HOME/plugin
catalog.config-dir=$PRESTO_ETC/catalog
task.concurrency=2
CONF
  echo "connector.name=tpch" >"$PRESTO_ETC/catalog/tpch.properties"
  echo "com.facebook.presto=INFO" >"$PRESTO_ETC/log.properties"
}

prestodb_healthy() {
  curl -sf "http://127.0.0.1:$PRESTO_PORT/v1/info" | grep -q '"starting":false' \
    && grep -q 'SERVER STARTED' "$(logfile prestodb)"
}

start_prestodb() {
  require_port_free prestodb "$PRESTO_PORT"
  prestodb_config
  local opens=()
  local m
  for m in java.base/java.lang java.base/java.lang.reflect java.base/java.lang.invoke \
    java.base/java.nio java.base/sun.nio.ch java.base/java.util java.base/java.util.concurrent \
    java.base/java.util.concurrent.atomic java.base/java.io java.base/java.net \
    java.base/jdk.internal.misc java.base/sun.security.action java.management/sun.management; do
    opens+=("--add-opens=$m=ALL-UNNAMED")
  done
  (cd "$STATE/prestodb/data" && launch prestodb "$JAVA17_HOME/bin/java" -server -Xmx1G -XX:+UseG1GC \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -XX:ReservedCodeCacheSize=150M \
    -Djdk.attach.allowAttachSelf=true -Dfile.encoding=UTF-8 "${opens[@]}" \
    -Dconfig="$PRESTO_ETC/config.properties" -Dlog.levels-file="$PRESTO_ETC/log.properties" \
    -cp "$PRESTO_ASM/lib/*:$PRESTO_HOME/lib/*" com.facebook.presto.server.PrestoServer >/dev/null)
  wait_healthy prestodb 240 prestodb_healthy
}
