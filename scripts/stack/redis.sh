# Debian's redis-server for scripts/stack.sh: one node by default (REDIS_PORT), a Redis Cluster of 3
# masters and 3 replicas with --redis-cluster (REDIS_CLUSTER_PORT .. +5, cluster bus +10000), and a
# TLS-only server with the feature store's ACL user with --redis-tls (REDIS_TLS_PORT). No
# persistence anywhere. Sourced, not run on its own.

# The commands the feature store's ACL user may run, and no other: what src/features/redis-store.ts
# sends (GET/SET NX of the namespace marker, APPEND/GETRANGE/PEXPIRE/DEL of the entity logs, HSET/HGETALL
# of the watermark, EVAL of the compaction script and of a batch's APPENDs), what those scripts call
# (src/features/lua/*.lua: STRLEN, SET; redis-batch.ts: APPEND; Redis checks those against the user too), ioredis' ready check (INFO) and what ioredis
# Cluster sends (CLUSTER SLOTS for the slot map, CLUSTER SHARDS on newer clients, CLUSTER INFO as its
# ready check, READONLY/READWRITE to replicas and promoted replicas, CLIENT SETNAME on every connection).
# Update this list when the store changes: the store runs each command once at start and refuses to
# start on NOPERM; test/features/redis-cluster.test.ts checks the ACL log stays empty with this list.
# A URL naming a database other than 0 also needs +select.
REDIS_STORE_COMMANDS="info get set append getrange strlen pexpire del hset hgetall eval cluster|slots cluster|shards cluster|info readonly readwrite client|setname"
# The feature store's user may touch only keys under this prefix (the store's default --redis-prefix).
REDIS_STORE_KEY_PREFIX="${FRAUDSCORE_REDIS_ACL_PREFIX:-fs:}"
REDIS_STORE_USER="fraudscore"
REDIS_CLUSTER_SIZE=6

REDIS_PID="$STACK_DIR/redis.pid"
REDIS_LOG="$STACK_DIR/redis.log"
REDIS_CLUSTER_DIR="$STACK_DIR/redis-cluster"
REDIS_TLS_PID="$STACK_DIR/redis-tls.pid"
REDIS_TLS_LOG="$STACK_DIR/redis-tls.log"

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

redis_ping() { # port
  [[ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" == "PONG" ]]
}

redis_wait_ping() { # port logfile
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until redis_ping "$1"; do
    if ((SECONDS > deadline)); then
      printf '[stack] ERROR: Redis did not answer PING on 127.0.0.1:%s within %ss\n' "$1" "$READY_TIMEOUT_S" >&2
      tail_logs "$2"
      exit 1
    fi
    sleep 0.2
  done
}

# --- one node ------------------------------------------------------------------------------------

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
  redis_wait_ping "$REDIS_PORT" "$REDIS_LOG"
  log "redis: answers PING"
}

redis_status() {
  local pid version
  pid="$(live_pid "$REDIS_PID" redis-server)"
  if [[ -n "$pid" ]]; then
    version="$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server 2>/dev/null | tr -d '\r' | sed -n 's/^redis_version://p')"
    log "redis: running, pid $pid, 127.0.0.1:$REDIS_PORT, Redis ${version:-?}, log $REDIS_LOG"
  elif port_open "$REDIS_PORT"; then
    log "redis: port $REDIS_PORT answers, not started by this script"
  elif [[ ! -f "$STACK_DIR/redis-cluster.env" ]]; then
    log "redis: not running"
  fi
}

# --- Redis Cluster ---------------------------------------------------------------------------------

redis_cluster_port() { echo $((REDIS_CLUSTER_PORT + $1 - 1)); }
redis_cluster_pid() { echo "$STACK_DIR/redis-cluster-$1.pid"; }
redis_cluster_seeds() {
  local i list=""
  for ((i = 1; i <= REDIS_CLUSTER_SIZE; i++)); do list+="${list:+,}127.0.0.1:$(redis_cluster_port "$i")"; done
  printf '%s' "$list"
}

redis_cluster_spawn() { # i
  local i="$1" dir="$REDIS_CLUSTER_DIR/node-$1"
  mkdir -p "$dir"
  # cluster-require-full-coverage no: while a master's slots fail over, the other slots keep serving.
  spawn "$(redis_cluster_pid "$i")" "$dir/redis.log" redis-server --bind 127.0.0.1 --port "$(redis_cluster_port "$i")" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout "$REDIS_CLUSTER_NODE_TIMEOUT_MS" \
    --cluster-require-full-coverage no --save '' --appendonly no --daemonize no --dir "$dir"
}

redis_cluster_live() { # prints how many nodes this script started are alive
  local i live=0
  for ((i = 1; i <= REDIS_CLUSTER_SIZE; i++)); do
    [[ -n "$(live_pid "$(redis_cluster_pid "$i")" redis-server)" ]] && live=$((live + 1))
  done
  echo "$live"
}

redis_cluster_info() { # port field
  redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"
}

# Waits until every live node sees the whole cluster as ok (slots covered, 6 nodes known).
redis_cluster_wait_ok() {
  local deadline=$((SECONDS + READY_TIMEOUT_S)) i port ok
  for (( ; ; )); do
    ok=1
    for ((i = 1; i <= REDIS_CLUSTER_SIZE; i++)); do
      [[ -n "$(live_pid "$(redis_cluster_pid "$i")" redis-server)" ]] || continue
      port="$(redis_cluster_port "$i")"
      if [[ "$(redis_cluster_info "$port" cluster_state)" != ok ||
        "$(redis_cluster_info "$port" cluster_known_nodes)" != "$REDIS_CLUSTER_SIZE" ]]; then
        ok=0
        break
      fi
    done
    ((ok)) && return 0
    if ((SECONDS > deadline)); then
      printf '[stack] ERROR: the Redis Cluster on %s is not ok after %ss\n' "$(redis_cluster_seeds)" "$READY_TIMEOUT_S" >&2
      redis-cli -h 127.0.0.1 -p "$port" cluster info >&2 2>&1 || true
      exit 1
    fi
    sleep 0.3
  done
}

redis_cluster_up() {
  local i live port
  live="$(redis_cluster_live)"
  if ((live == REDIS_CLUSTER_SIZE)) && [[ "$(redis_cluster_info "$(redis_cluster_port 1)" cluster_state)" == ok ]]; then
    log "redis cluster: already running ($(redis_cluster_seeds))"
    return 0
  fi
  ensure_redis_installed
  if ((live == 0)); then
    for ((i = 1; i <= REDIS_CLUSTER_SIZE; i++)); do
      port="$(redis_cluster_port "$i")"
      if port_open "$port" || port_open $((port + 10000)); then
        die "redis cluster node $i: port $port (or its bus port $((port + 10000))) is taken by a process this script did not start"
      fi
    done
    # A new cluster every time: no persistence, so old nodes.conf files would only describe empty nodes.
    rm -rf "$REDIS_CLUSTER_DIR"
  fi
  mkdir -p "$REDIS_CLUSTER_DIR"
  for ((i = 1; i <= REDIS_CLUSTER_SIZE; i++)); do
    [[ -n "$(live_pid "$(redis_cluster_pid "$i")" redis-server)" ]] && continue
    log "redis cluster node $i: starting on 127.0.0.1:$(redis_cluster_port "$i") (bus $(($(redis_cluster_port "$i") + 10000)))"
    redis_cluster_spawn "$i"
  done
  for ((i = 1; i <= REDIS_CLUSTER_SIZE; i++)); do
    redis_wait_ping "$(redis_cluster_port "$i")" "$REDIS_CLUSTER_DIR/node-$i/redis.log"
  done
  if [[ "$(redis_cluster_info "$(redis_cluster_port 1)" cluster_slots_assigned)" != 16384 ]]; then
    local nodes=()
    for ((i = 1; i <= REDIS_CLUSTER_SIZE; i++)); do nodes+=("127.0.0.1:$(redis_cluster_port "$i")"); done
    log "redis cluster: redis-cli --cluster create ${nodes[*]} --cluster-replicas 1"
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$REDIS_CLUSTER_DIR/create.out" 2>&1 || {
      tail -n 40 "$REDIS_CLUSTER_DIR/create.out" >&2
      die "redis-cli --cluster create failed"
    }
  fi
  REDIS_CLUSTER_STARTED=1
}

redis_cluster_wait() {
  redis_cluster_wait_ok
  printf 'STACK_REDIS_CLUSTER_NODES=%s\n' "$(redis_cluster_seeds)" >"$STACK_DIR/redis-cluster.env"
  log "redis cluster: ok, 3 masters + 3 replicas, seeds $(redis_cluster_seeds)"
}

redis_cluster_node_index() {
  [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= REDIS_CLUSTER_SIZE)) || die "redis: cluster node index must be 1..$REDIS_CLUSTER_SIZE"
  [[ -f "$STACK_DIR/redis-cluster.env" ]] || die "redis: no Redis Cluster was made in $STACK_DIR (up --redis-cluster)"
}

redis_cluster_kill_node() { # i
  redis_cluster_node_index "$1"
  kill_pidfile "redis cluster node $1" "$(redis_cluster_pid "$1")" redis-server
}

# Starts node i again with its nodes.conf: it rejoins, as a replica if its slots failed over.
redis_cluster_start_node() { # i
  redis_cluster_node_index "$1"
  local pid
  pid="$(live_pid "$(redis_cluster_pid "$1")" redis-server)"
  if [[ -n "$pid" ]]; then
    log "redis cluster node $1: already running (pid $pid)"
    return 0
  fi
  log "redis cluster node $1: starting on 127.0.0.1:$(redis_cluster_port "$1")"
  redis_cluster_spawn "$1"
  redis_wait_ping "$(redis_cluster_port "$1")" "$REDIS_CLUSTER_DIR/node-$1/redis.log"
  redis_cluster_wait_ok
  log "redis cluster node $1: rejoined as $(redis_cluster_role "$1")"
}

redis_cluster_role() { # i
  local role
  role="$(redis-cli -h 127.0.0.1 -p "$(redis_cluster_port "$1")" role 2>/dev/null | head -n 1)"
  case "$role" in
  master) echo master ;;
  slave) echo "replica of $(redis-cli -h 127.0.0.1 -p "$(redis_cluster_port "$1")" role 2>/dev/null | sed -n 3p)" ;;
  *) echo "?" ;;
  esac
}

redis_cluster_down() {
  local i pids=()
  for ((i = 1; i <= REDIS_CLUSTER_SIZE; i++)); do
    [[ -f "$(redis_cluster_pid "$i")" ]] || continue
    stop_pidfile "redis cluster node $i" "$(redis_cluster_pid "$i")" redis-server &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || true; done
  rm -f "$STACK_DIR/redis-cluster.env"
}

redis_cluster_status() {
  [[ -f "$STACK_DIR/redis-cluster.env" ]] || return 0
  local i pid port
  for ((i = 1; i <= REDIS_CLUSTER_SIZE; i++)); do
    port="$(redis_cluster_port "$i")"
    pid="$(live_pid "$(redis_cluster_pid "$i")" redis-server)"
    if [[ -n "$pid" ]]; then
      log "redis cluster node $i: running, pid $pid, 127.0.0.1:$port, $(redis_cluster_role "$i")"
    else
      log "redis cluster node $i: not running (127.0.0.1:$port)"
    fi
  done
  local state=""
  for ((i = 1; i <= REDIS_CLUSTER_SIZE && ${#state} == 0; i++)); do
    state="$(redis_cluster_info "$(redis_cluster_port "$i")" cluster_state || true)"
  done
  log "redis cluster: seeds $(redis_cluster_seeds), state ${state:-unknown}"
}

# --- TLS-only Redis with the feature store's ACL user ---------------------------------------------

redis_tls_material() {
  secure_dir_ready
  local admin_pw store_pw
  admin_pw="$(secret_file "$SECURE_DIR/redis-admin.password")"
  store_pw="$(secret_file "$SECURE_DIR/redis-$REDIS_STORE_USER.password")"
  local rule="resetkeys ~${REDIS_STORE_KEY_PREFIX}* resetchannels -@all" c
  for c in $REDIS_STORE_COMMANDS; do rule+=" +$c"; done
  (
    umask 077
    # Passwords as SHA-256 (#...), so the ACL file holds no secret in the clear.
    cat >"$SECURE_DIR/redis-users.acl" <<EOF_ACL
user default on #$(printf '%s' "$admin_pw" | sha256sum | cut -d' ' -f1) ~* &* +@all
user $REDIS_STORE_USER on #$(printf '%s' "$store_pw" | sha256sum | cut -d' ' -f1) $rule
EOF_ACL
    cat >"$SECURE_DIR/redis.env" <<EOF_ENV
# Written by scripts/stack.sh up --redis-tls (read it; the scorer reads none of these names).
STACK_REDIS_TLS_URL=rediss://$REDIS_STORE_USER@127.0.0.1:$REDIS_TLS_PORT
STACK_REDIS_TLS_HOST=127.0.0.1
STACK_REDIS_TLS_PORT=$REDIS_TLS_PORT
STACK_REDIS_USERNAME=$REDIS_STORE_USER
STACK_REDIS_PASSWORD_FILE=$SECURE_DIR/redis-$REDIS_STORE_USER.password
STACK_REDIS_KEY_PREFIX=$REDIS_STORE_KEY_PREFIX
STACK_REDIS_ACL_RULE=$rule
STACK_REDIS_ADMIN_USERNAME=default
STACK_REDIS_ADMIN_PASSWORD_FILE=$SECURE_DIR/redis-admin.password
STACK_TLS_CA_FILE=$SECURE_DIR/ca.pem
STACK_TLS_CLIENT_CERT_FILE=$SECURE_DIR/client.pem
STACK_TLS_CLIENT_KEY_FILE=$SECURE_DIR/client-key.pem
EOF_ENV
  )
}

redis_tls_cli() { # args... : redis-cli over TLS as the admin (default) user
  REDISCLI_AUTH="$(cat "$SECURE_DIR/redis-admin.password")" redis-cli --tls --cacert "$SECURE_DIR/ca.pem" \
    -h 127.0.0.1 -p "$REDIS_TLS_PORT" "$@"
}

redis_tls_up() {
  local pid
  pid="$(live_pid "$REDIS_TLS_PID" redis-server)"
  if [[ -n "$pid" ]]; then
    log "redis tls: already running (pid $pid, port $REDIS_TLS_PORT)"
    return 0
  fi
  port_open "$REDIS_TLS_PORT" && die "redis tls: port $REDIS_TLS_PORT is taken by a process this script did not start"
  ensure_redis_installed
  redis_tls_material
  mkdir -p "$STACK_DIR/redis-tls"
  log "redis tls: starting on 127.0.0.1:$REDIS_TLS_PORT (TLS only; client certificates optional; ACL user $REDIS_STORE_USER)"
  spawn "$REDIS_TLS_PID" "$REDIS_TLS_LOG" redis-server --bind 127.0.0.1 --port 0 --tls-port "$REDIS_TLS_PORT" \
    --tls-cert-file "$SECURE_DIR/server.pem" --tls-key-file "$SECURE_DIR/server-key.pem" \
    --tls-ca-cert-file "$SECURE_DIR/ca.pem" --tls-auth-clients optional --aclfile "$SECURE_DIR/redis-users.acl" \
    --save '' --appendonly no --daemonize no --dir "$STACK_DIR/redis-tls"
}

redis_tls_wait() {
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  until [[ "$(redis_tls_cli ping 2>/dev/null)" == PONG ]]; do
    if ((SECONDS > deadline)); then
      printf '[stack] ERROR: the TLS Redis did not answer PING on 127.0.0.1:%s within %ss\n' "$REDIS_TLS_PORT" "$READY_TIMEOUT_S" >&2
      tail_logs "$REDIS_TLS_LOG"
      exit 1
    fi
    sleep 0.2
  done
  log "redis tls: answers PING over TLS; see $SECURE_DIR/redis.env"
}

redis_tls_status() {
  local pid
  pid="$(live_pid "$REDIS_TLS_PID" redis-server)"
  if [[ -n "$pid" ]]; then
    log "redis tls: running, pid $pid, 127.0.0.1:$REDIS_TLS_PORT (TLS), ACL user $REDIS_STORE_USER on ${REDIS_STORE_KEY_PREFIX}*, log $REDIS_TLS_LOG"
  elif [[ -f "$REDIS_TLS_PID" ]]; then
    log "redis tls: not running"
  fi
}
