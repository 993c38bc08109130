# shellcheck shell=bash
# shellcheck disable=SC2034  # paths used by bin/* and lib.sh
# Kafka 4.x, KRaft, one node acting as broker and controller, jars from Maven Central.
KAFKA_HOME=$CACHE/kafka-$KAFKA_VERSION
KAFKA_DATA=$STATE/kafka/data
# The SASL_SSL listener (port KAFKA_SASL_PORT): a CA and server certificate made once by
# the openssl CLI, and a test user with one password for PLAIN, SCRAM-SHA-256/512.
KAFKA_TLS=$STATE/kafka/tls
KAFKA_SASL_USER=alice

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
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$KAFKA_SASL_USER="$(kafka_sasl_password)";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
# unsecured JWTs (Kafka's default validator): enough to test a client's OAUTHBEARER
listener.name.sasl_ssl.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$KAFKA_TLS/server.pem
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

# the test user's password: random, made once, kept with the state (mode 600)
kafka_sasl_password() {
  local f=$STATE/kafka/sasl-password
  if [[ ! -s $f ]]; then
    (umask 077 && openssl rand -hex 16 >"$f.tmp" && mv "$f.tmp" "$f")
  fi
  cat "$f"
}

# CA and server certificate (SAN IP:127.0.0.1, DNS:localhost: librdkafka checks the host
# name), made once; the keystore is the chain and an unencrypted PKCS#8 key (Kafka's PEM type)
kafka_tls_files() {
  [[ -s $KAFKA_TLS/server.pem && -s $KAFKA_TLS/ca.pem ]] && return 0
  local d=$KAFKA_TLS.tmp
  rm -rf "$d"; mkdir -p "$d"; chmod 700 "$d"
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=lakepipe test CA" \
      -keyout "$d/ca.key" -out "$d/ca.pem" &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
        -keyout "$d/server.key" -out "$d/server.csr" &&
      openssl x509 -req -days 3650 -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n') \
        -out "$d/server.crt" &&
      cat "$d/server.crt" "$d/server.key" >"$d/server.pem"
  } >"$LOGS/kafka-tls.log" 2>&1 || die "making the Kafka test certificates failed; see $LOGS/kafka-tls.log"
  rm -f "$d/server.csr" "$d/server.key"
  chmod 600 "$d/server.pem" "$d/ca.key"; chmod 755 "$d"
  rm -rf "$KAFKA_TLS"; mv "$d" "$KAFKA_TLS"
}

# the SCRAM credentials, as `kafka-storage format --add-scram` and ConfigCommand take them
kafka_scram_args() {
  local m
  for m in SCRAM-SHA-256 SCRAM-SHA-512; do
    echo "$m=[name=$KAFKA_SASL_USER,password=$(kafka_sasl_password)]"
  done
}

# A data folder formatted before the SASL_SSL listener existed has no SCRAM users: add them
# once through the running broker (its PLAINTEXT listener). The marker lives in the data
# folder, so a new format (which adds them itself) starts without it.
kafka_add_scram_users() {
  [[ -f $KAFKA_DATA/lakepipe-scram-users ]] && return 0
  local a
  log "kafka: adding the SCRAM users to a data folder formatted without them"
  # one mechanism per request: the broker refuses two changes of one user in a request
  for a in $(kafka_scram_args); do
    "$JAVA17_HOME/bin/java" -Xmx256m -XX:TieredStopAtLevel=1 \
      -Dlog4j2.configurationFile="$SERVICES_DIR/java/log4j2-quiet.properties" \
      -cp "$KAFKA_HOME/lib/*" org.apache.kafka.tools.ConfigCommand \
      --bootstrap-server "127.0.0.1:$KAFKA_PORT" --alter --entity-type users \
      --entity-name "$KAFKA_SASL_USER" --add-config "${a/name=$KAFKA_SASL_USER,/}" \
      >"$LOGS/kafka-scram.log" 2>&1 || die "adding the Kafka SCRAM users failed; see $LOGS/kafka-scram.log"
  done
  touch "$KAFKA_DATA/lakepipe-scram-users"
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
  require_port_free kafka "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT"
  kafka_tls_files
  kafka_config
  if [[ ! -f $KAFKA_DATA/meta.properties ]]; then
    mkdir -p "$KAFKA_DATA"
    local a scram=()
    for a in $(kafka_scram_args); do scram+=(--add-scram "$a"); done
    kafka_java kafka.tools.StorageTool format -t "$(kafka_java kafka.tools.StorageTool random-uuid)" \
      -c "$STATE/kafka/server.properties" "${scram[@]}" >"$LOGS/kafka-format.log" 2>&1 \
      || die "kafka storage format failed; see $LOGS/kafka-format.log"
    touch "$KAFKA_DATA/lakepipe-scram-users"
  fi
  launch kafka "$JAVA17_HOME/bin/java" -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$STATE/kafka/log4j2.properties" \
    -cp "$KAFKA_HOME/lib/*" kafka.Kafka "$STATE/kafka/server.properties" >/dev/null
  wait_healthy kafka 90 kafka_healthy
  kafka_add_scram_users
}
