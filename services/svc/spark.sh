# shellcheck shell=bash
# shellcheck disable=SC2034  # paths used by bin/* and lib.sh
# Spark SQL: pyspark from PyPI in the cache's venv, run as a command (bin/spark-sql) with
# Hive support, the metastore service (svc/metastore.sh), a local warehouse in .state/spark, and
# fs.defaultFS on the HDFS above. The service is a server (spark/spark_sql.py --serve) that
# keeps one Spark session: bin/spark-sql hands it each call and runs Spark itself only when
# no server is up.
SPARK_STATE=$STATE/spark
SPARK_SOCKET=$SPARK_STATE/server.sock

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

# the environment pyspark needs, for bin/spark-sql and the server
spark_env() {
  spark_config
  export JAVA_HOME=$JAVA17_HOME PYSPARK_PYTHON=$VENV_PY PYSPARK_DRIVER_PYTHON=$VENV_PY
  export LAKEPIPE_SPARK_STATE=$SPARK_STATE
  export LAKEPIPE_SPARK_METASTORE=${HIVE_METASTORE:-thrift://127.0.0.1:$METASTORE_PORT}
  export LAKEPIPE_SPARK_DEFAULTFS=${HDFS_NAMENODE:-hdfs://127.0.0.1:$HDFS_PORT}
  export SPARK_LOCAL_IP=127.0.0.1
  # driver JVM options must be given before pyspark launches it
  export PYSPARK_SUBMIT_ARGS="--driver-memory ${LAKEPIPE_SPARK_MEMORY:-1g} --driver-java-options '-Dlog4j2.configurationFile=file:$SPARK_STATE/log4j2.properties -Dderby.system.home=$SPARK_STATE' pyspark-shell"
}

# the server answers (not bin/spark-sql, which would start a Spark of its own)
spark_healthy() {
  [[ $("$VENV_PY" "$SERVICES_DIR/spark/spark_client.py" "$SPARK_SOCKET" -e 'SELECT 1 + 1' 2>>"$(logfile spark)") == 2 ]]
}

start_spark() {
  spark_env
  rm -f "$SPARK_SOCKET"
  launch spark "$VENV_PY" "$SERVICES_DIR/spark/spark_sql.py" --serve "$SPARK_SOCKET" >/dev/null
  wait_healthy spark 240 spark_healthy
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
