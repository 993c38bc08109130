# shellcheck shell=bash
# shellcheck disable=SC2034  # paths used by bin/* and lib.sh
# Hive metastore: Apache Hive's standalone metastore 3.1.3 (bin tar.gz from Maven Central),
# thrift on 127.0.0.1:9083, an embedded Derby database initialised once by Hive's own
# schematool, warehouse on the HDFS above. Trino's hive catalog and bin/spark-sql use it.
# 3.1.3, not 4.x: Spark's built-in Hive 2.3 client calls get_table, which Hive 4 removed.
METASTORE_VERSION=3.1.3
METASTORE_HOME=$CACHE/hive-metastore-$METASTORE_VERSION
METASTORE_STATE=$STATE/metastore
METASTORE_DB=$METASTORE_STATE/metastore_db
# what `hadoop jar` would add besides Hadoop itself (which comes shaded from hdfs's jars)
METASTORE_EXTRA=$CACHE/hive-metastore-extra-lib

install_metastore() {
  install_hdfs # hadoop-client-api/runtime: the metastore's Hadoop (HDFS client)
  if [[ ! -f $METASTORE_HOME/.done ]]; then
    local tgz
    tgz=$(mvn_artifact "org.apache.hive:hive-standalone-metastore:$METASTORE_VERSION:tar.gz:bin")
    # keep the archive in m2: unpack_once deletes what it unpacks, so unpack a copy
    cp "$tgz" "$CACHE/hive-metastore.tar.gz"
    unpack_once "$CACHE/hive-metastore.tar.gz" "$METASTORE_HOME"
  fi
  mvn_classpath "$METASTORE_EXTRA" commons-cli:commons-cli:1.4 commons-io:commons-io:2.11.0 \
    commons-codec:commons-codec:1.15 commons-collections:commons-collections:3.2.2 \
    commons-logging:commons-logging:1.2 org.slf4j:slf4j-api:1.7.36
}

metastore_classpath() {
  local h=$HADOOP_HOME/lib
  echo "$METASTORE_STATE/conf:$METASTORE_HOME/lib/*:$METASTORE_EXTRA/lib/*:$h/hadoop-client-api-$HADOOP_VERSION.jar:$h/hadoop-client-runtime-$HADOOP_VERSION.jar"
}

metastore_config() {
  mkdir -p "$METASTORE_STATE/conf"
  cat >"$METASTORE_STATE/conf/metastore-site.xml" <<CONF
<?xml version="1.0"?>
<configuration>
  <property><name>metastore.thrift.uris</name><value>thrift://127.0.0.1:$METASTORE_PORT</value></property>
  <property><name>metastore.thrift.port</name><value>$METASTORE_PORT</value></property>
  <property><name>javax.jdo.option.ConnectionURL</name><value>jdbc:derby:;databaseName=$METASTORE_DB;create=true</value></property>
  <property><name>javax.jdo.option.ConnectionDriverName</name><value>org.apache.derby.jdbc.EmbeddedDriver</value></property>
  <property><name>metastore.warehouse.dir</name><value>hdfs://127.0.0.1:$HDFS_PORT/user/hive/warehouse</value></property>
  <property><name>metastore.schema.verification</name><value>true</value></property>
  <property><name>metastore.event.db.notification.api.auth</name><value>false</value></property>
  <!-- the defaults name classes of hive-exec, which a standalone metastore does not have -->
  <property><name>metastore.expression.proxy</name><value>org.apache.hadoop.hive.metastore.DefaultPartitionExpressionProxy</value></property>
  <property><name>metastore.task.threads.always</name><value>org.apache.hadoop.hive.metastore.events.EventCleanerTask</value></property>
  <property><name>fs.defaultFS</name><value>hdfs://127.0.0.1:$HDFS_PORT</value></property>
  <property><name>dfs.replication</name><value>1</value></property>
</configuration>
CONF
  cat >"$METASTORE_STATE/conf/metastore-log4j2.properties" <<'CONF'
status = WARN
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{ISO8601} %5p [%t] %c{2}: %m%n
logger.hms.name = org.apache.hadoop.hive.metastore.HiveMetaStore
logger.hms.level = INFO
CONF
}

# the java command line of the server and of schematool
metastore_java() {
  METASTORE_JAVA=("$JAVA17_HOME/bin/java" -Xmx512m -XX:+UseG1GC -Djava.net.preferIPv4Stack=true
    -Dderby.system.home="$METASTORE_STATE"
    -Dlog4j.configurationFile="$METASTORE_STATE/conf/metastore-log4j2.properties"
    -cp "$(metastore_classpath)")
}

# the Derby schema, created once by Hive's schematool (a later start reuses it)
metastore_init_db() {
  [[ -f $METASTORE_STATE/schema.done ]] && return 0
  local t0=$SECONDS
  rm -rf "$METASTORE_DB"
  metastore_java
  METASTORE_HOME=$METASTORE_HOME "${METASTORE_JAVA[@]}" org.apache.hadoop.hive.metastore.tools.MetastoreSchemaTool \
    -initSchema -dbType derby >"$LOGS/metastore-schematool.log" 2>&1 \
    || { tail -20 "$LOGS/metastore-schematool.log" >&2; die "metastore schematool -initSchema failed; see $LOGS/metastore-schematool.log"; }
  touch "$METASTORE_STATE/schema.done"
  log "metastore: Derby schema initialised in $((SECONDS - t0))s"
}

metastore_healthy() {
  port_open "$METASTORE_PORT" && grep -q '^Metastore READY' "$(logfile metastore)"
}

start_metastore() {
  require_port_free metastore "$METASTORE_PORT"
  metastore_config
  metastore_init_db
  metastore_java
  (cd "$METASTORE_STATE" && launch metastore "${METASTORE_JAVA[@]}" "$SERVICES_DIR/java/Metastore.java" \
    127.0.0.1 "$METASTORE_PORT" >/dev/null)
  wait_healthy metastore 120 metastore_healthy
}
