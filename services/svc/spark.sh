# shellcheck shell=bash
# shellcheck disable=SC2034  # paths used by bin/* and lib.sh
# Spark SQL: pyspark from PyPI in the cache's venv, run as a command (bin/spark-sql) with
# Hive support, the metastore service (svc/metastore.sh), a local warehouse in .state/spark, and
# fs.defaultFS on the HDFS above. Not a daemon: `up.sh spark` installs it and checks it.
SPARK_STATE=$STATE/spark

install_spark() { install_python; }

spark_config() {
  mkdir -p "$SPARK_STATE"
  cat >"$SPARK_STATE/log4j2.properties" <<'CONF'
rootLogger.level=error
logger.repl.name=org.apache.spark.repl.Main
logger.repl.level=error
rootLogger.appenderRef.stderr.ref=console
appender.console.type=Console
appender.console.name=console
appender.console.target=SYSTEM_ERR
appender.console.layout.type=PatternLayout
appender.console.layout.pattern=%d{HH:mm:ss} %p %c{1}: %m%n
CONF
}

spark_healthy() {
  [[ $("$SERVICES_DIR/bin/spark-sql" -e 'SELECT 1 + 1' 2>>"$(logfile spark)") == 2 ]]
}

start_spark() {
  spark_config
  local t0=$SECONDS
  : >"$(logfile spark)"
  spark_healthy || { tail -20 "$(logfile spark)" >&2; die "spark-sql does not work; see its log: $(logfile spark)"; }
  log "spark-sql works (checked in $((SECONDS - t0))s; log $(logfile spark))"
}

# spark_kafka_jars: the Kafka source's jars (fetched once into the cache), comma-separated
spark_kafka_jars() {
  local jars=() c
  for c in "org.apache.spark:spark-sql-kafka-0-10_2.13:$SPARK_KAFKA_VERSION" \
    "org.apache.spark:spark-token-provider-kafka-0-10_2.13:$SPARK_KAFKA_VERSION" \
    "org.apache.kafka:kafka-clients:$SPARK_KAFKA_CLIENTS_VERSION" \
    "org.apache.commons:commons-pool2:$SPARK_COMMONS_POOL2_VERSION"; do
    jars+=("$(mvn_artifact "$c")")
  done
  (IFS=,; echo "${jars[*]}")
}
