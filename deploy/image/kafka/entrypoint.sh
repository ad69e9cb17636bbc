#!/bin/sh
# Writes server.properties from KAFKA_* variables as the apache/kafka image does (the prefix
# dropped, lower case, `___` → `-`, `__` → `_`, `_` → `.`), formats the storage once with
# CLUSTER_ID, then becomes the broker (exec: SIGTERM reaches the JVM, which shuts down cleanly).
set -eu
config=/opt/kafka/config/server.properties
: "${KAFKA_LOG_DIRS:=/var/lib/kafka/data}"
export KAFKA_LOG_DIRS
env | while IFS='=' read -r name value; do
  case "$name" in
    KAFKA_HEAP_OPTS | KAFKA_OPTS | KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_LOG4J_OPTS) ;;
    KAFKA_*)
      key=$(printf '%s' "${name#KAFKA_}" | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g' | tr 'A-Z' 'a-z')
      printf '%s=%s\n' "$key" "$value" ;;
  esac
done >"$config"
cat >/opt/kafka/config/log4j2.properties <<'LOG4J'
status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
LOG4J
java_cmd() {
  # shellcheck disable=SC2086
  exec_or_run=$1; shift
  $exec_or_run java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} ${KAFKA_OPTS:-} -Djava.awt.headless=true \
    -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -cp '/opt/kafka/libs/*' "$@"
}
if [ ! -f "$KAFKA_LOG_DIRS/meta.properties" ]; then
  java_cmd command kafka.tools.StorageTool format --ignore-formatted --cluster-id="${CLUSTER_ID:?set CLUSTER_ID}" -c "$config"
fi
java_cmd exec kafka.Kafka "$config"
