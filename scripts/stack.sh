#!/usr/bin/env bash
# Local dev/CI stack without a Docker engine: Apache Kafka (KRaft, jars from Maven Central, run with
# the installed Java 17) and Debian's redis-server, all on 127.0.0.1.
#
#   scripts/stack.sh up [options] [kafka|redis]...   start (idempotent), wait until ready, create topics
#     --kafka-brokers N    N combined broker+controller nodes (3: topics RF 3, min.insync.replicas 2)
#     --kafka-secure       a SASL_SSL listener (SCRAM, mTLS) beside PLAINTEXT, ACLs on
#     --redis-cluster      a Redis Cluster of 3 masters + 3 replicas instead of the single Redis
#     --redis-tls          also a TLS-only Redis with the feature store's least-privilege ACL user
#   scripts/stack.sh down   [kafka|redis]...         stop what this script started (by pid file only)
#   scripts/stack.sh status                          show what runs
#   scripts/stack.sh kill  kafka|redis I             SIGKILL Kafka node I / Redis Cluster node I
#   scripts/stack.sh start kafka|redis I             start it again (same data and config)
#   scripts/stack.sh acls --principal User:P [--read T]... [--write T]... [--group-prefix G] [--txn-prefix X]
#                                                    add ACLs on a --kafka-secure stack (AclCommand)
#   scripts/stack.sh kafka-tool CLASS [args]...      run one of Kafka's own tools (jars cached)
#
# With no service named, all services. State (pid files, logs, data, rendered config, test
# certificates and secrets) lives in <project>/.stack/; the Kafka jars are cached in
# ${FRAUDSCORE_CACHE:-$HOME/.cache/fraudscore}. When a Docker engine answers `docker info`, `up`/`down`
# use docker-compose.yml instead.
#
# Ports (127.0.0.1 only): Kafka node i PLAINTEXT 9092+2(i-1), controller 9093+2(i-1), SASL_SSL
# 9192+(i-1); Redis 6379; Redis Cluster 7000-7005 (bus 17000-17005); TLS Redis 6380.
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
KAFKA_SECURE_PORT="${FRAUDSCORE_KAFKA_SECURE_PORT:-9192}"
REDIS_PORT="${FRAUDSCORE_REDIS_PORT:-6379}"
REDIS_CLUSTER_PORT="${FRAUDSCORE_REDIS_CLUSTER_PORT:-7000}"
REDIS_TLS_PORT="${FRAUDSCORE_REDIS_TLS_PORT:-6380}"
# How long a silent Redis Cluster master stays in charge before its replica is promoted.
REDIS_CLUSTER_NODE_TIMEOUT_MS="${FRAUDSCORE_REDIS_CLUSTER_NODE_TIMEOUT_MS:-5000}"
READY_TIMEOUT_S="${FRAUDSCORE_STACK_TIMEOUT:-90}"
STOP_TIMEOUT_S=20
SECURE_DIR="$STACK_DIR/secure"

# shellcheck source=stack/lib.sh
source "$ROOT/scripts/stack/lib.sh"
# shellcheck source=stack/kafka.sh
source "$ROOT/scripts/stack/kafka.sh"
# shellcheck source=stack/redis.sh
source "$ROOT/scripts/stack/redis.sh"
# shellcheck source=stack/secure.sh
source "$ROOT/scripts/stack/secure.sh"

want() { # service, given the selected list in SERVICES
  local s
  for s in "${SERVICES[@]}"; do [[ "$s" == "$1" ]] && return 0; done
  return 1
}

docker_engine() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1 && docker compose version >/dev/null 2>&1
}

# --- commands --------------------------------------------------------------------------------

cmd_up() {
  if docker_engine; then
    if ((KAFKA_SECURE || REDIS_TLS)); then
      die "--kafka-secure/--redis-tls run on the native stack only (no Docker engine path yet)"
    fi
    if ((KAFKA_NODES > 1 || REDIS_CLUSTER)); then
      log "Docker engine found: docker compose --profile cluster up -d"
      (cd "$ROOT" && docker compose --profile cluster up -d kafka-1 kafka-2 kafka-3 kafka-init-cluster \
        redis-node-1 redis-node-2 redis-node-3 redis-node-4 redis-node-5 redis-node-6 redis-cluster-init)
      return 0
    fi
    log "Docker engine found: docker compose up -d kafka redis kafka-init"
    (cd "$ROOT" && docker compose up -d kafka redis kafka-init)
    return 0
  fi
  mkdir -p "$STACK_DIR"
  KAFKA_STARTED=0
  # Start everything first (the JVMs take seconds), then wait for each.
  if want kafka; then kafka_up; fi
  if want redis; then
    if ((REDIS_CLUSTER)); then redis_cluster_up; else redis_up; fi
    if ((REDIS_TLS)); then redis_tls_up; fi
    if ((REDIS_CLUSTER)); then redis_cluster_wait; else redis_wait; fi
    if ((REDIS_TLS)); then redis_tls_wait; fi
  fi
  if want kafka; then
    kafka_wait "$KAFKA_NODES"
    # Once per formatted storage (formatting removes the marker): ACLs live in the cluster metadata.
    # They name topics but need none to exist, so they are added while the topics are created.
    local acls=""
    if ((KAFKA_SECURE)) && [[ ! -f "$STACK_DIR/kafka-acls.done" ]]; then
      kafka_grant_scorer_acls &
      acls=$!
    fi
    create_topics "$KAFKA_NODES"
    if [[ -n "$acls" ]]; then
      wait "$acls" || die "kafka: the scorer's ACLs could not be added"
      date -u +%FT%TZ >"$STACK_DIR/kafka-acls.done"
    fi
  fi
  cmd_status
}

cmd_down() {
  if docker_engine && ! compgen -G "$STACK_DIR/*.pid" >/dev/null; then
    log "Docker engine found: docker compose stop"
    (cd "$ROOT" && docker compose --profile cluster stop)
    return 0
  fi
  local pids=()
  # Kafka nodes and Redis nodes stop in parallel; each waits for its own process.
  if want kafka; then
    kafka_down &
    pids+=($!)
  fi
  if want redis; then
    if [[ -f "$REDIS_PID" ]] || ! compgen -G "$STACK_DIR/redis-*.pid" >/dev/null; then
      stop_pidfile redis "$REDIS_PID" redis-server
    fi
    if compgen -G "$STACK_DIR/redis-cluster-*.pid" >/dev/null; then redis_cluster_down; fi
    rm -f "$STACK_DIR/redis-cluster.env"
    if [[ -f "$REDIS_TLS_PID" ]]; then stop_pidfile "redis tls" "$REDIS_TLS_PID" redis-server; fi
  fi
  local p
  for p in "${pids[@]}"; do wait "$p" || true; done
  return 0
}

cmd_status() {
  kafka_status
  redis_status
  redis_cluster_status
  redis_tls_status
}

cmd_kill_start() { # kill|start service index
  [[ $# -eq 3 ]] || usage
  case "$1:$2" in
  kill:kafka) kafka_kill_node "$3" ;;
  start:kafka) kafka_start_node "$3" ;;
  kill:redis) redis_cluster_kill_node "$3" ;;
  start:redis) redis_cluster_start_node "$3" ;;
  *) usage ;;
  esac
}

cmd_acls() {
  local principal="" reads=() writes=() group="" txn=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
    --principal) principal="${2:?}" && shift 2 ;;
    --read) reads+=("${2:?}") && shift 2 ;;
    --write) writes+=("${2:?}") && shift 2 ;;
    --group-prefix) group="${2:?}" && shift 2 ;;
    --txn-prefix) txn="${2:?}" && shift 2 ;;
    *) usage ;;
    esac
  done
  [[ "$principal" == User:* ]] || die "acls: --principal User:<name> is required"
  kafka_grant_acls "$principal" "${reads[*]:-}" "${writes[*]:-}" "$group" "$txn"
}

usage() {
  sed -n '5,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[[ $# -ge 1 ]] || usage
CMD="$1"
shift
KAFKA_NODES=1
KAFKA_SECURE=0
REDIS_CLUSTER=0
REDIS_TLS=0
SERVICES=()
case "$CMD" in
up | down | status)
  while [[ $# -gt 0 ]]; do
    case "$1" in
    --kafka-brokers)
      [[ "$CMD" == up && "${2:-}" =~ ^[1-9]$ ]] || die "--kafka-brokers takes a node count 1..9 (and only with 'up')"
      KAFKA_NODES="$2"
      shift 2
      ;;
    --kafka-secure) KAFKA_SECURE=1 && shift ;;
    --redis-cluster) REDIS_CLUSTER=1 && shift ;;
    --redis-tls) REDIS_TLS=1 && shift ;;
    kafka | redis) SERVICES+=("$1") && shift ;;
    *) usage ;;
    esac
  done
  if [[ ${#SERVICES[@]} -eq 0 ]]; then SERVICES=(kafka redis); fi
  case "$CMD" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  esac
  ;;
kill | start) cmd_kill_start "$CMD" "$@" ;;
acls) cmd_acls "$@" ;;
kafka-tool)
  [[ $# -ge 1 ]] || usage
  kafka_tool "$@"
  ;;
*) usage ;;
esac
