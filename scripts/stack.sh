#!/usr/bin/env bash
# Local dev/CI stack without a Docker engine: Apache Kafka (KRaft, single combined node, jars from
# Maven Central, run with the installed Java 17) and Debian's redis-server, both on 127.0.0.1.
#
#   scripts/stack.sh up     [kafka|redis]...   start (idempotent), wait until ready, create topics
#   scripts/stack.sh down   [kafka|redis]...   stop what this script started (by pid file only)
#   scripts/stack.sh status                    show what runs
#
# With no service named, all services. State (pid files, logs, data, rendered config) lives in
# <project>/.stack/; the Kafka jars are cached in ${FRAUDSCORE_CACHE:-$HOME/.cache/fraudscore}.
# When a Docker engine answers `docker info`, `up`/`down` use docker-compose.yml instead.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${FRAUDSCORE_STACK_DIR:-$ROOT/.stack}"
KAFKA_VERSION="4.1.1"
CACHE_DIR="${FRAUDSCORE_CACHE:-$HOME/.cache/fraudscore}"
KAFKA_LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
# Ports are fixed by the project (tests and docker-compose.yml use them); the overrides exist only
# to run a second, throwaway stack beside a running one.
KAFKA_PORT="${FRAUDSCORE_KAFKA_PORT:-9092}"
CONTROLLER_PORT="${FRAUDSCORE_KAFKA_CONTROLLER_PORT:-9093}"
REDIS_PORT="${FRAUDSCORE_REDIS_PORT:-6379}"
READY_TIMEOUT_S="${FRAUDSCORE_STACK_TIMEOUT:-90}"
STOP_TIMEOUT_S=20

KAFKA_DIR="$STACK_DIR/kafka"
KAFKA_PID="$STACK_DIR/kafka.pid"
KAFKA_LOG="$STACK_DIR/kafka.log"
KAFKA_OUT="$STACK_DIR/kafka.out"
REDIS_PID="$STACK_DIR/redis.pid"
REDIS_LOG="$STACK_DIR/redis.log"

log() { printf '[stack] %s\n' "$*"; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

# --- helpers ---------------------------------------------------------------------------------

port_open() { # port
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# Prints the pid recorded in $1 if that process is alive and is the expected program ($2 is a
# pattern matched against its command line, to survive pid reuse); prints nothing otherwise.
live_pid() { # pidfile pattern
  local pidfile="$1" pattern="$2" pid cmd
  [[ -f "$pidfile" ]] || return 0
  pid="$(tr -dc '0-9' <"$pidfile")"
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmd" == *$pattern* ]] || return 0
  printf '%s' "$pid"
}

# Starts "$@" detached in its own session; its pid (the exec'd program keeps the shell's pid) goes
# to the pid file. stdout/stderr go to $2.
spawn() { # pidfile logfile cmd...
  local pidfile="$1" logfile="$2"
  shift 2
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
  local i
  for i in $(seq 1 50); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.1
  done
  die "could not start $1 (no pid file $pidfile)"
}

want() { # service, given the selected list in SERVICES
  local s
  for s in "${SERVICES[@]}"; do [[ "$s" == "$1" ]] && return 0; done
  return 1
}

docker_engine() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1
}

# --- Kafka -----------------------------------------------------------------------------------

ensure_java() {
  command -v java >/dev/null 2>&1 || die "java not found: install a JDK 17+ (apt-get install -y openjdk-17-jre-headless)"
  local v
  v="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  [[ "${v%%.*}" -ge 17 ]] 2>/dev/null || die "Java 17+ required, found '$v'"
}

ensure_kafka_jars() {
  if [[ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" && -f "$KAFKA_LIBS/.complete" ]]; then
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: needed once to fetch the Kafka $KAFKA_VERSION jars (apt-get install -y maven)"
  log "resolving Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS (once)"
  local tmp="$KAFKA_LIBS.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$ROOT/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime; then
    rm -rf "$tmp"
    die "Maven could not resolve the Kafka jars (see the output above)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "Maven ran but kafka_2.13-$KAFKA_VERSION.jar is missing in $tmp"
  touch "$tmp/.complete"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp" "$KAFKA_LIBS"
}

render_kafka_config() {
  mkdir -p "$KAFKA_DIR/data"
  cat >"$KAFKA_DIR/server.properties" <<EOF
# Rendered by scripts/stack.sh; edits are overwritten on the next 'up'.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
min.insync.replicas=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
delete.topic.enable=true
EOF
}

format_kafka_storage() {
  if [[ -f "$KAFKA_DIR/data/meta.properties" ]]; then
    return 0
  fi
  local cluster_id
  if [[ -s "$KAFKA_DIR/cluster.id" ]]; then
    cluster_id="$(cat "$KAFKA_DIR/cluster.id")"
  else
    # A Kafka cluster id is a base64url-encoded random 128-bit UUID (22 characters).
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    printf '%s' "$cluster_id" >"$KAFKA_DIR/cluster.id"
  fi
  log "formatting Kafka storage (cluster id $cluster_id)"
  java -Xmx256m -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.yaml" -Dkafka.logs.dir="$STACK_DIR" \
    -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$KAFKA_DIR/server.properties" \
    >>"$KAFKA_OUT" 2>&1 || {
    tail -n 40 "$KAFKA_OUT" >&2
    die "formatting Kafka storage failed"
  }
}

kafka_metadata_ok() { # timeout seconds; a real metadata request when node_modules has kafkajs
  local timeout_s="$1"
  if [[ -d "$ROOT/node_modules/kafkajs" ]] && command -v node >/dev/null 2>&1; then
    (cd "$ROOT" && node --input-type=module -e '
      import kafkajs from "kafkajs";
      const { Kafka, logLevel } = kafkajs;
      const deadline = Date.now() + Number(process.argv[1]) * 1000;
      const kafka = new Kafka({ clientId: "fraudscore-stack", brokers: ["127.0.0.1:'"$KAFKA_PORT"'"],
        logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 5000, retry: { retries: 0 } });
      for (;;) {
        const admin = kafka.admin();
        try {
          await admin.connect();
          const c = await admin.describeCluster();
          await admin.fetchTopicMetadata({ topics: [] });
          await admin.disconnect();
          if (c.brokers.length > 0 && c.controller !== null && c.controller >= 0) {
            console.log(`[stack] kafka answers metadata: cluster ${c.clusterId}, ${c.brokers.length} broker(s), controller ${c.controller}`);
            process.exit(0);
          }
        } catch { await admin.disconnect().catch(() => {}); }
        if (Date.now() > deadline) process.exit(1);
        await new Promise((r) => setTimeout(r, 500));
      }
    ' "$timeout_s")
  else
    local deadline=$((SECONDS + timeout_s))
    until port_open "$KAFKA_PORT"; do
      ((SECONDS > deadline)) && return 1
      sleep 0.5
    done
  fi
}

kafka_up() {
  local pid
  pid="$(live_pid "$KAFKA_PID" kafka.Kafka)"
  if [[ -n "$pid" ]]; then
    log "kafka: already running (pid $pid, port $KAFKA_PORT)"
    KAFKA_STARTED=0
    return 0
  fi
  rm -f "$KAFKA_PID"
  if port_open "$KAFKA_PORT" || port_open "$CONTROLLER_PORT"; then
    log "kafka: port $KAFKA_PORT/$CONTROLLER_PORT already answers: already running (not started by this script), leaving it alone"
    KAFKA_STARTED=0
    return 0
  fi
  ensure_java
  ensure_kafka_jars
  mkdir -p "$STACK_DIR"
  render_kafka_config
  format_kafka_storage
  log "kafka: starting Apache Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller $CONTROLLER_PORT)"
  spawn "$KAFKA_PID" "$KAFKA_OUT" java -Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.yaml" \
    -Dkafka.logs.dir="$STACK_DIR" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties"
  KAFKA_STARTED=1
}

kafka_wait() {
  log "kafka: waiting for a metadata answer (timeout ${READY_TIMEOUT_S}s)"
  if ! kafka_metadata_ok "$READY_TIMEOUT_S"; then
    printf '[stack] ERROR: Kafka did not answer a metadata request on 127.0.0.1:%s within %ss\n' "$KAFKA_PORT" "$READY_TIMEOUT_S" >&2
    for f in "$KAFKA_OUT" "$KAFKA_LOG"; do
      if [[ -f "$f" ]]; then
        printf -- '--- last 40 lines of %s ---\n' "$f" >&2
        tail -n 40 "$f" >&2
      fi
    done
    printf '[stack] the broker process (if any) is left running for inspection: stop it with scripts/stack.sh down kafka\n' >&2
    exit 1
  fi
}

create_topics() {
  if [[ -d "$ROOT/node_modules/kafkajs" ]] && command -v node >/dev/null 2>&1; then
    KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" node "$ROOT/scripts/create-topics.mjs"
  else
    log "node_modules missing: topics not created (run 'npm ci', then 'node scripts/create-topics.mjs')"
  fi
}

# --- Redis -----------------------------------------------------------------------------------

ensure_redis_installed() {
  command -v redis-server >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || die "redis-server not found and apt-get is unavailable: install Redis 7"
  log "redis-server missing: installing Debian's redis-server"
  local sudo=""
  [[ "$(id -u)" -eq 0 ]] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q redis-server ||
    { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q redis-server; } ||
    die "apt-get install redis-server failed"
  # Debian's package may start a system service on 6379; this stack wants its own, so stop it.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
    $sudo systemctl stop redis-server || true
  fi
}

redis_ping() {
  [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]
}

redis_up() {
  local pid
  pid="$(live_pid "$REDIS_PID" redis-server)"
  if [[ -n "$pid" ]]; then
    log "redis: already running (pid $pid, port $REDIS_PORT)"
    return 0
  fi
  rm -f "$REDIS_PID"
  if port_open "$REDIS_PORT"; then
    log "redis: port $REDIS_PORT already answers: already running (not started by this script), leaving it alone"
    return 0
  fi
  ensure_redis_installed
  mkdir -p "$STACK_DIR/redis"
  log "redis: starting $(redis-server --version | awk '{print $1, $2, $3}') on 127.0.0.1:$REDIS_PORT"
  spawn "$REDIS_PID" "$REDIS_LOG" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
    --daemonize no --dir "$STACK_DIR/redis"
}

redis_wait() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until redis_ping; do
    if ((SECONDS > deadline)); then
      printf '[stack] ERROR: Redis did not answer PING on 127.0.0.1:%s within %ss\n' "$REDIS_PORT" "$READY_TIMEOUT_S" >&2
      [[ -f "$REDIS_LOG" ]] && { printf -- '--- last 40 lines of %s ---\n' "$REDIS_LOG" >&2; tail -n 40 "$REDIS_LOG" >&2; }
      exit 1
    fi
    sleep 0.2
  done
  log "redis: answers PING"
}

# --- stop ------------------------------------------------------------------------------------

stop_pidfile() { # name pidfile pattern
  local name="$1" pidfile="$2" pattern="$3" pid
  if [[ ! -f "$pidfile" ]]; then
    log "$name: not started by this script (no pid file), nothing to stop"
    return 0
  fi
  pid="$(live_pid "$pidfile" "$pattern")"
  if [[ -z "$pid" ]]; then
    log "$name: pid file was stale, removed"
    rm -f "$pidfile"
    return 0
  fi
  log "$name: stopping pid $pid (TERM)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name: still alive after ${STOP_TIMEOUT_S}s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$pidfile"
  log "$name: stopped"
}

# --- commands --------------------------------------------------------------------------------

cmd_up() {
  if docker_engine; then
    log "Docker engine found: docker compose up -d kafka redis kafka-init"
    (cd "$ROOT" && docker compose up -d kafka redis kafka-init)
    return 0
  fi
  mkdir -p "$STACK_DIR"
  KAFKA_STARTED=0
  # Start both first (the JVM takes seconds), then wait for each.
  want kafka && kafka_up
  want redis && redis_up
  want redis && redis_wait
  if want kafka; then
    kafka_wait
    create_topics
  fi
  cmd_status
}

cmd_down() {
  if docker_engine && [[ ! -f "$KAFKA_PID" && ! -f "$REDIS_PID" ]]; then
    log "Docker engine found: docker compose stop"
    (cd "$ROOT" && docker compose stop)
    return 0
  fi
  want kafka && stop_pidfile kafka "$KAFKA_PID" kafka.Kafka
  want redis && stop_pidfile redis "$REDIS_PID" redis-server
  return 0
}

cmd_status() {
  local pid version
  pid="$(live_pid "$KAFKA_PID" kafka.Kafka)"
  if [[ -n "$pid" ]]; then
    version="$(sed -n 's/.*Kafka version: \([^ ]*\).*/\1/p' "$KAFKA_LOG" 2>/dev/null | tail -n 1)"
    log "kafka: running, pid $pid, 127.0.0.1:$KAFKA_PORT (controller $CONTROLLER_PORT), Kafka ${version:-$KAFKA_VERSION}, log $KAFKA_LOG"
  elif port_open "$KAFKA_PORT"; then
    log "kafka: port $KAFKA_PORT answers, not started by this script (version unknown)"
  else
    log "kafka: not running"
  fi
  pid="$(live_pid "$REDIS_PID" redis-server)"
  if [[ -n "$pid" ]]; then
    version="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p')"
    log "redis: running, pid $pid, 127.0.0.1:$REDIS_PORT, Redis ${version:-?}, log $REDIS_LOG"
  elif port_open "$REDIS_PORT"; then
    log "redis: port $REDIS_PORT answers, not started by this script"
  else
    log "redis: not running"
  fi
}

usage() {
  echo "usage: $0 up|down|status [kafka|redis]..." >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
CMD="$1"
shift
SERVICES=("$@")
if [[ ${#SERVICES[@]} -eq 0 ]]; then SERVICES=(kafka redis); fi
for s in "${SERVICES[@]}"; do
  [[ "$s" == kafka || "$s" == redis ]] || usage
done

case "$CMD" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
*) usage ;;
esac
