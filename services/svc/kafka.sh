# shellcheck shell=bash
# shellcheck disable=SC2034  # paths used by bin/* and lib.sh
# Kafka 4.x, KRaft, one node acting as broker and controller, jars from Maven Central.
KAFKA_HOME=$CACHE/kafka-$KAFKA_VERSION
KAFKA_DATA=$STATE/kafka/data

install_kafka() {
  # kafka-tools: TopicCommand etc. for bin/kafka-topics
  mvn_classpath "$KAFKA_HOME" "org.apache.kafka:kafka_2.13:$KAFKA_VERSION" \
    "org.apache.kafka:kafka-tools:$KAFKA_VERSION" org.apache.logging.log4j:log4j-slf4j-impl:2.25.5
}

kafka_config() {
  mkdir -p "$STATE/kafka"
  cat >"$STATE/kafka/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=2
log.retention.hours=168
CONF
  cat >"$STATE/kafka/log4j2.properties" <<'CONF'
rootLogger.level=INFO
rootLogger.appenderRef.out.ref=out
appender.out.type=Console
appender.out.name=out
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.apache.name=org.apache.kafka
logger.apache.level=WARN
CONF
}

kafka_java() {
  "$JAVA17_HOME/bin/java" -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$STATE/kafka/log4j2.properties" \
    -cp "$KAFKA_HOME/lib/*" "$@"
}

kafka_healthy() {
  port_open "$KAFKA_PORT" && grep -q 'Kafka Server started' "$(logfile kafka)"
}

start_kafka() {
  require_port_free kafka "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  kafka_config
  if [[ ! -f $KAFKA_DATA/meta.properties ]]; then
    mkdir -p "$KAFKA_DATA"
    kafka_java kafka.tools.StorageTool format -t "$(kafka_java kafka.tools.StorageTool random-uuid)" \
      -c "$STATE/kafka/server.properties" >"$LOGS/kafka-format.log" 2>&1 \
      || die "kafka storage format failed; see $LOGS/kafka-format.log"
  fi
  launch kafka "$JAVA17_HOME/bin/java" -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$STATE/kafka/log4j2.properties" \
    -cp "$KAFKA_HOME/lib/*" kafka.Kafka "$STATE/kafka/server.properties" >/dev/null
  wait_healthy kafka 90 kafka_healthy
}
