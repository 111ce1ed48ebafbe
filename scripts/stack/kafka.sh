# Apache Kafka for scripts/stack.sh: one combined KRaft node by default, N combined nodes with
# --kafka-brokers N, a SASL_SSL listener with ACLs with --kafka-secure. Sourced, not run on its own.
#
# Node i (1-based) listens on PLAINTEXT 127.0.0.1:KAFKA_PORT+2(i-1), its controller on
# CONTROLLER_PORT+2(i-1) and, when secure, SASL_SSL on KAFKA_SECURE_PORT+(i-1). One node keeps the
# historical layout (.stack/kafka.pid, .stack/kafka/, .stack/kafka.log); node i of a cluster lives in
# .stack/kafka-i/ with .stack/kafka-i.pid.
#
# Why N combined broker+controller nodes rather than N brokers and a separate controller: a lone
# controller would be a single point of failure the failover tests never exercise, while 3 combined
# voters keep a metadata quorum (2 of 3) when any one node is killed, the way a lost host behaves,
# with one JVM fewer on a 2-core machine.

KAFKA_TOOLS="$CACHE_DIR/kafka-$KAFKA_VERSION/tools"
# The scorer's principal and the SCRAM super user of the tooling (--kafka-secure).
KAFKA_SCORER_USER="fraudscore"
KAFKA_ADMIN_USER="fraudscore-admin"
# What the scorer may do, and nothing else: read its input and labels, write decisions and dead
# letters, use consumer groups and transactional ids starting with its prefix (the defaults of
# --group-id/--client-id are "fraudscore": groups fraudscore and fraudscore.labels, transactional id
# fraudscore.fraudscore.tx).
KAFKA_SCORER_READ_TOPICS=(fraudscore.transactions fraudscore.labels)
KAFKA_SCORER_WRITE_TOPICS=(fraudscore.decisions fraudscore.dlq)
KAFKA_SCORER_GROUP_PREFIX="fraudscore"
KAFKA_SCORER_TXN_PREFIX="fraudscore"

kafka_client_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
kafka_controller_port() { echo $((CONTROLLER_PORT + 2 * ($1 - 1))); }
kafka_secure_port() { echo $((KAFKA_SECURE_PORT + $1 - 1)); }

# Sets NODE_DIR, NODE_PID, NODE_OUT, NODE_LOG_DIR for node $1 of a $2-node stack.
kafka_node_paths() { # i n
  if (($2 == 1)); then
    NODE_DIR="$STACK_DIR/kafka"
    NODE_PID="$STACK_DIR/kafka.pid"
    NODE_OUT="$STACK_DIR/kafka.out"
    NODE_LOG_DIR="$STACK_DIR"
  else
    NODE_DIR="$STACK_DIR/kafka-$1"
    NODE_PID="$STACK_DIR/kafka-$1.pid"
    NODE_OUT="$NODE_DIR/kafka.out"
    NODE_LOG_DIR="$NODE_DIR"
  fi
}

# How many nodes the stack in STACK_DIR was made with (1 when it was never made as a cluster).
kafka_made_nodes() {
  if [[ -s "$STACK_DIR/kafka-nodes" ]]; then tr -dc '0-9' <"$STACK_DIR/kafka-nodes"; else echo 1; fi
}

kafka_bootstrap() { # n
  local i list=""
  for ((i = 1; i <= $1; i++)); do list+="${list:+,}127.0.0.1:$(kafka_client_port "$i")"; done
  printf '%s' "$list"
}

kafka_secure_bootstrap() { # n
  local i list=""
  for ((i = 1; i <= $1; i++)); do list+="${list:+,}127.0.0.1:$(kafka_secure_port "$i")"; done
  printf '%s' "$list"
}

# Replication of a stack of n nodes: RF 3 (at most n), min.insync.replicas RF-1 (so one replica may
# be down while acks=all writes, and transactions, still succeed).
kafka_rf() { if (($1 >= 3)); then echo 3; else echo "$1"; fi; }
kafka_min_isr() {
  local rf
  rf="$(kafka_rf "$1")"
  if ((rf > 1)); then echo $((rf - 1)); else echo 1; fi
}

ensure_java() {
  command -v java >/dev/null 2>&1 || die "java not found: install a JDK 17+ (apt-get install -y openjdk-17-jre-headless)"
  local v
  v="$(java -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  [[ "${v%%.*}" -ge 17 ]] 2>/dev/null || die "Java 17+ required, found '$v'"
}

# Resolves the runtime jars of scripts/kafka/$1 into $2 once (Maven Central, cached).
ensure_jars() { # pom dest marker-jar
  local pom="$1" dest="$2" jar="$3"
  if [[ -f "$dest/$jar" && -f "$dest/.complete" ]]; then
    return 0
  fi
  # One resolver at a time (tools may be started in parallel); the others find the jars in place.
  mkdir -p "$(dirname "$dest")"
  local lock
  exec {lock}>"$dest.lock"
  flock "$lock"
  if [[ -f "$dest/$jar" && -f "$dest/.complete" ]]; then
    exec {lock}>&-
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn not found: needed once to fetch the Kafka $KAFKA_VERSION jars (apt-get install -y maven)"
  log "resolving $jar and its dependencies from Maven Central into $dest (once)"
  local tmp="$dest.tmp.$BASHPID"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  if ! mvn -q -B -Dstyle.color=never -f "$ROOT/scripts/kafka/$pom" dependency:copy-dependencies \
    -DoutputDirectory="$tmp" -DincludeScope=runtime; then
    rm -rf "$tmp"
    die "Maven could not resolve the jars of scripts/kafka/$pom (see the output above)"
  fi
  [[ -f "$tmp/$jar" ]] || die "Maven ran but $jar is missing in $tmp"
  touch "$tmp/.complete"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  exec {lock}>&-
}

ensure_kafka_jars() { ensure_jars pom.xml "$KAFKA_LIBS" "kafka_2.13-$KAFKA_VERSION.jar"; }
# The command-line tools (AclCommand, console producer/consumer) are not in the broker's jars; they
# get their own folder so that the broker's folder, which running brokers read, is never rewritten.
ensure_kafka_tools() { ensure_jars tools-pom.xml "$KAFKA_TOOLS" "kafka-tools-$KAFKA_VERSION.jar"; }

# Runs one of Kafka's own command-line tools by class name, e.g.
#   stack.sh kafka-tool org.apache.kafka.tools.AclCommand --bootstrap-server 127.0.0.1:9092 --list
kafka_tool() { # class args...
  ensure_java
  ensure_kafka_jars
  ensure_kafka_tools
  local class="$1" cds=() lock
  shift
  # A class-data archive of the tools' classes makes each later tool JVM start ~3x faster (2.4 s ->
  # 0.7 s measured): the first run that gets the lock writes it at exit, runs without it wait for none.
  local archive="$KAFKA_TOOLS.jsa"
  if [[ -s "$archive" ]]; then
    cds=(-XX:SharedArchiveFile="$archive")
  else
    exec {lock}>"$archive.lock"
    if flock -n "$lock"; then
      cds=(-XX:ArchiveClassesAtExit="$archive.tmp.$BASHPID")
    fi
  fi
  # Short-lived: C1 only and the serial collector start faster. -Xlog:disable keeps the JVM's own
  # CDS notices out of the tool's output.
  local rc=0
  java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xlog:disable -Djava.awt.headless=true "${cds[@]}" \
    -Dlog4j2.configurationFile="$ROOT/scripts/kafka/tools-log4j2.yaml" \
    -cp "$KAFKA_TOOLS/*:$KAFKA_LIBS/*" "$class" "$@" || rc=$?
  if [[ -f "$archive.tmp.$BASHPID" ]]; then
    if [[ -s "$archive.tmp.$BASHPID" ]]; then mv -f "$archive.tmp.$BASHPID" "$archive"; else rm -f "$archive.tmp.$BASHPID"; fi
  fi
  return "$rc"
}

render_kafka_config() { # i n
  local i="$1" n="$2" voters="" j rf min_isr
  kafka_node_paths "$i" "$n"
  mkdir -p "$NODE_DIR/data"
  for ((j = 1; j <= n; j++)); do voters+="${voters:+,}$j@127.0.0.1:$(kafka_controller_port "$j")"; done
  rf="$(kafka_rf "$n")"
  min_isr="$(kafka_min_isr "$n")"
  local port ctl listeners advertised protocols
  port="$(kafka_client_port "$i")"
  ctl="$(kafka_controller_port "$i")"
  listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctl"
  advertised="PLAINTEXT://127.0.0.1:$port"
  protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if ((KAFKA_SECURE)); then
    listeners+=",SASL_SSL://127.0.0.1:$(kafka_secure_port "$i")"
    advertised+=",SASL_SSL://127.0.0.1:$(kafka_secure_port "$i")"
    protocols+=",SASL_SSL:SASL_SSL"
  fi
  {
    cat <<EOF_CONF
# Rendered by scripts/stack.sh; edits are overwritten on the next 'up'.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
inter.broker.listener.name=PLAINTEXT
log.dirs=$NODE_DIR/data
num.partitions=1
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=6
min.insync.replicas=$min_isr
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
delete.topic.enable=true
EOF_CONF
    if ((n > 1)); then
      cat <<EOF_CONF
default.replication.factor=$rf
# A replica is out of the ISR after 10 s without fetching (the default 30 s slows failover tests).
replica.lag.time.max.ms=10000
EOF_CONF
    fi
    if ((KAFKA_SECURE)); then
      local pw
      pw="$(cat "$SECURE_DIR/store.password")"
      cat <<EOF_CONF
# --kafka-secure: SASL_SSL (SCRAM-SHA-256/512 over TLS, client certificate required) beside
# PLAINTEXT. The PLAINTEXT and CONTROLLER listeners stay on 127.0.0.1 for the brokers themselves and
# the tooling, whose principal (User:ANONYMOUS) is therefore a super user; the ACLs bind on SASL_SSL.
sasl.enabled.mechanisms=SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.ssl.client.auth=required
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECURE_DIR/server.p12
ssl.keystore.password=$pw
ssl.key.password=$pw
ssl.truststore.type=PKCS12
ssl.truststore.location=$SECURE_DIR/truststore.p12
ssl.truststore.password=$pw
ssl.enabled.protocols=TLSv1.3,TLSv1.2
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:ANONYMOUS;User:$KAFKA_ADMIN_USER
EOF_CONF
    fi
  } >"$NODE_DIR/server.properties"
  chmod 600 "$NODE_DIR/server.properties"
}

# Formats node i's storage once. A secure stack's SCRAM users are written into the bootstrap
# metadata by kafka-storage itself (--add-scram), so they exist before any client connects.
format_kafka_storage() { # i n
  local i="$1" n="$2" cluster_id_file want_mode
  kafka_node_paths "$i" "$n"
  want_mode="plain"
  if ((KAFKA_SECURE)); then
    want_mode="secure $(cat "$SECURE_DIR/kafka-$KAFKA_SCORER_USER.password" "$SECURE_DIR/kafka-$KAFKA_ADMIN_USER.password" | sha256sum | cut -c1-16)"
  fi
  if [[ -f "$NODE_DIR/data/meta.properties" ]]; then
    local have_mode="plain"
    [[ -s "$NODE_DIR/format-mode" ]] && have_mode="$(cat "$NODE_DIR/format-mode")"
    # A plain stack started secure (or with new passwords) needs its SCRAM users: format it again
    # (a local stack; the topics are created again below).
    if [[ "$want_mode" == "$have_mode" || "$want_mode" == plain ]]; then
      return 0
    fi
    log "kafka node $i: storage was formatted as '${have_mode%% *}', formatting again for --kafka-secure"
    rm -rf "$NODE_DIR/data"
    mkdir -p "$NODE_DIR/data"
  fi
  if ((n == 1)); then cluster_id_file="$NODE_DIR/cluster.id"; else cluster_id_file="$STACK_DIR/kafka-cluster.id"; fi
  local cluster_id=""
  [[ -s "$cluster_id_file" ]] && cluster_id="$(cat "$cluster_id_file")"
  # A Kafka cluster id is a base64url-encoded random 128-bit UUID (22 characters). One that starts
  # with '-' (1 in 64) is read as an option by kafka-storage, so draw again, as Kafka's own
  # Uuid.randomUuid does. A stored one that starts with '-' never formatted anything.
  if [[ -z "$cluster_id" || "$cluster_id" == -* ]]; then
    cluster_id=-
    while [[ "$cluster_id" == -* ]]; do
      cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    done
    printf '%s' "$cluster_id" >"$cluster_id_file"
  fi
  local scram=()
  if ((KAFKA_SECURE)); then
    local user pw mech
    for user in "$KAFKA_SCORER_USER" "$KAFKA_ADMIN_USER"; do
      pw="$(cat "$SECURE_DIR/kafka-$user.password")"
      for mech in SCRAM-SHA-256 SCRAM-SHA-512; do scram+=(--add-scram "$mech=[name=$user,password=$pw]"); done
    done
  fi
  log "kafka node $i: formatting storage (cluster id $cluster_id${scram:+, SCRAM users $KAFKA_SCORER_USER and $KAFKA_ADMIN_USER})"
  # A short-lived tool: C1 only and the serial collector start faster.
  java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.yaml" \
    -Dkafka.logs.dir="$NODE_LOG_DIR" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$NODE_DIR/server.properties" \
    "${scram[@]}" >>"$NODE_OUT" 2>&1 || {
    tail -n 40 "$NODE_OUT" >&2
    die "formatting Kafka storage of node $i failed"
  }
  printf '%s' "$want_mode" >"$NODE_DIR/format-mode"
  rm -f "$STACK_DIR/kafka-acls.done"
}

# A real metadata request (kafkajs from node_modules) until $3 brokers are registered (and node $4,
# when given, is one of them); without node_modules, until the first port accepts connections.
kafka_metadata_ok() { # timeout-seconds bootstrap expected-brokers [node-id]
  local timeout_s="$1" bootstrap="$2" expected="$3" node="${4:-0}"
  if [[ -d "$ROOT/node_modules/kafkajs" ]] && command -v node >/dev/null 2>&1; then
    (cd "$ROOT" && node --disable-warning=TimeoutNegativeWarning --input-type=module -e '
      import kafkajs from "kafkajs";
      const { Kafka, logLevel } = kafkajs;
      const [timeoutS, bootstrap, expected, node] = process.argv.slice(1);
      const deadline = Date.now() + Number(timeoutS) * 1000;
      const kafka = new Kafka({ clientId: "fraudscore-stack", brokers: bootstrap.split(","),
        logLevel: logLevel.NOTHING, connectionTimeout: 2000, requestTimeout: 5000, retry: { retries: 0 } });
      for (;;) {
        const admin = kafka.admin();
        try {
          await admin.connect();
          const c = await admin.describeCluster();
          await admin.fetchTopicMetadata({ topics: [] });
          await admin.disconnect();
          const listed = Number(node) === 0 || c.brokers.some((b) => b.nodeId === Number(node));
          if (c.brokers.length >= Number(expected) && listed && c.controller !== null && c.controller >= 0) {
            console.log(`[stack] kafka answers metadata: cluster ${c.clusterId}, ${c.brokers.length} broker(s), controller ${c.controller}`);
            process.exit(0);
          }
        } catch { await admin.disconnect().catch(() => {}); }
        if (Date.now() > deadline) process.exit(1);
        await new Promise((r) => setTimeout(r, 500));
      }
    ' "$timeout_s" "$bootstrap" "$expected" "$node")
  else
    local deadline=$((SECONDS + timeout_s))
    until port_open "${bootstrap%%,*}"; do
      ((SECONDS > deadline)) && return 1
      sleep 0.5
    done
  fi
}

kafka_spawn_node() { # i n
  local i="$1" n="$2" heap
  kafka_node_paths "$i" "$n"
  # One node keeps its historical heap; cluster nodes share the machine three ways.
  if ((n == 1)); then heap=(-Xms256m -Xmx512m); else heap=(-Xms128m -Xmx384m); fi
  spawn "$NODE_PID" "$NODE_OUT" java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$ROOT/scripts/kafka/log4j2.yaml" \
    -Dkafka.logs.dir="$NODE_LOG_DIR" -cp "$KAFKA_LIBS/*" kafka.Kafka "$NODE_DIR/server.properties"
}

kafka_up() {
  local n="$KAFKA_NODES" i pid running=0 made
  made="$(kafka_made_nodes)"
  KAFKA_STARTED=0
  # A running stack keeps its listeners: asking for SASL_SSL of a plain one needs a restart.
  kafka_node_paths 1 "$made"
  if ((KAFKA_SECURE)) && [[ -n "$(live_pid "$NODE_PID" kafka.Kafka)" ]] &&
    ! grep -q '^listener.name.sasl_ssl' "$NODE_DIR/server.properties" 2>/dev/null; then
    die "kafka: runs without --kafka-secure in $STACK_DIR; 'down kafka' first"
  fi
  # A stack made with another node count still running: leave it, say so.
  if ((made != n)); then
    for ((i = 1; i <= made; i++)); do
      kafka_node_paths "$i" "$made"
      [[ -n "$(live_pid "$NODE_PID" kafka.Kafka)" ]] && running=$((running + 1))
    done
    if ((running > 0)); then
      die "kafka: a $made-node stack runs in $STACK_DIR; 'down kafka' first to start $n node(s)"
    fi
  fi
  if ((n == 1)); then
    kafka_node_paths 1 1
    pid="$(live_pid "$NODE_PID" kafka.Kafka)"
    if [[ -n "$pid" ]]; then
      log "kafka: already running (pid $pid, port $KAFKA_PORT)"
      return 0
    fi
    rm -f "$NODE_PID"
    if port_open "$KAFKA_PORT" || port_open "$CONTROLLER_PORT"; then
      log "kafka: port $KAFKA_PORT/$CONTROLLER_PORT already answers: already running (not started by this script), leaving it alone"
      return 0
    fi
  else
    running=0
    for ((i = 1; i <= n; i++)); do
      kafka_node_paths "$i" "$n"
      [[ -n "$(live_pid "$NODE_PID" kafka.Kafka)" ]] && running=$((running + 1))
    done
    if ((running == n)); then
      log "kafka: all $n nodes already running ($(kafka_bootstrap "$n"))"
      return 0
    fi
    for ((i = 1; i <= n; i++)); do
      kafka_node_paths "$i" "$n"
      [[ -n "$(live_pid "$NODE_PID" kafka.Kafka)" ]] && continue
      if port_open "$(kafka_client_port "$i")" || port_open "$(kafka_controller_port "$i")"; then
        die "kafka node $i: port $(kafka_client_port "$i")/$(kafka_controller_port "$i") is taken by a process this script did not start"
      fi
    done
  fi
  ensure_java
  ensure_kafka_jars
  mkdir -p "$STACK_DIR"
  printf '%s\n' "$n" >"$STACK_DIR/kafka-nodes"
  if ((KAFKA_SECURE)); then secure_kafka_material; fi
  # Each node's storage is formatted by its own JVM: all at once.
  local formats=() p rc=0
  for ((i = 1; i <= n; i++)); do
    kafka_node_paths "$i" "$n"
    [[ -n "$(live_pid "$NODE_PID" kafka.Kafka)" ]] && continue
    render_kafka_config "$i" "$n"
    format_kafka_storage "$i" "$n" &
    formats+=($!)
  done
  for p in "${formats[@]}"; do wait "$p" || rc=1; done
  ((rc == 0)) || die "formatting Kafka storage failed (see above)"
  for ((i = 1; i <= n; i++)); do
    kafka_node_paths "$i" "$n"
    [[ -n "$(live_pid "$NODE_PID" kafka.Kafka)" ]] && continue
    if ((n == 1)); then
      log "kafka: starting Apache Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller $CONTROLLER_PORT)"
    else
      log "kafka node $i: starting on 127.0.0.1:$(kafka_client_port "$i") (controller $(kafka_controller_port "$i"))"
    fi
    if ((KAFKA_SECURE)); then log "kafka node $i: SASL_SSL on 127.0.0.1:$(kafka_secure_port "$i")"; fi
    kafka_spawn_node "$i" "$n"
  done
  KAFKA_STARTED=1
}

kafka_wait() { # n
  local n="$1"
  log "kafka: waiting for a metadata answer with $n broker(s) (timeout ${READY_TIMEOUT_S}s)"
  if ! kafka_metadata_ok "$READY_TIMEOUT_S" "$(kafka_bootstrap "$n")" "$n"; then
    printf '[stack] ERROR: Kafka did not answer a metadata request with %s broker(s) on %s within %ss\n' \
      "$n" "$(kafka_bootstrap "$n")" "$READY_TIMEOUT_S" >&2
    local i
    for ((i = 1; i <= n; i++)); do
      kafka_node_paths "$i" "$n"
      tail_logs "$NODE_OUT" "$NODE_LOG_DIR/kafka.log"
    done
    printf '[stack] the broker processes (if any) are left running for inspection: stop them with scripts/stack.sh down kafka\n' >&2
    exit 1
  fi
}

create_topics() { # n
  local n="$1"
  if [[ -d "$ROOT/node_modules/kafkajs" ]] && command -v node >/dev/null 2>&1; then
    if ((n == 1)); then
      KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" node --disable-warning=TimeoutNegativeWarning "$ROOT/scripts/create-topics.mjs"
    else
      KAFKA_BROKERS="$(kafka_bootstrap "$n")" FRAUDSCORE_TOPIC_REPLICATION_FACTOR="$(kafka_rf "$n")" \
        FRAUDSCORE_TOPIC_MIN_INSYNC_REPLICAS="$(kafka_min_isr "$n")" node --disable-warning=TimeoutNegativeWarning "$ROOT/scripts/create-topics.mjs"
    fi
  else
    log "node_modules missing: topics not created (run 'npm ci', then 'node scripts/create-topics.mjs')"
  fi
}

# --- per node: kill / start (failover tests) ----------------------------------------------------

kafka_node_index() { # i: checks it against the stack's node count
  local n
  n="$(kafka_made_nodes)"
  [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= n)) || die "kafka: node index must be 1..$n (the stack has $n node(s))"
}

kafka_kill_node() { # i
  local n
  n="$(kafka_made_nodes)"
  kafka_node_index "$1"
  kafka_node_paths "$1" "$n"
  kill_pidfile "kafka node $1" "$NODE_PID" kafka.Kafka
}

kafka_start_node() { # i: the same configuration and data as before, then wait for its port
  local n i="$1" pid
  n="$(kafka_made_nodes)"
  kafka_node_index "$i"
  kafka_node_paths "$i" "$n"
  [[ -f "$NODE_DIR/server.properties" ]] || die "kafka node $i: never made in $STACK_DIR (run 'up' first)"
  pid="$(live_pid "$NODE_PID" kafka.Kafka)"
  if [[ -n "$pid" ]]; then
    log "kafka node $i: already running (pid $pid)"
    return 0
  fi
  ensure_java
  log "kafka node $i: starting on 127.0.0.1:$(kafka_client_port "$i")"
  kafka_spawn_node "$i" "$n"
  # Asked of the node itself: the others still list a killed broker until its session times out.
  if ! kafka_metadata_ok "$READY_TIMEOUT_S" "127.0.0.1:$(kafka_client_port "$i")" "$n" "$i"; then
    tail_logs "$NODE_OUT" "$NODE_LOG_DIR/kafka.log"
    die "kafka node $i did not answer a metadata request within ${READY_TIMEOUT_S}s"
  fi
}

kafka_down() {
  local n i pids=()
  n="$(kafka_made_nodes)"
  if ((n == 1)); then
    kafka_node_paths 1 1
    stop_pidfile kafka "$NODE_PID" kafka.Kafka
    return 0
  fi
  # All nodes at once: stopped one by one, the last ones would wait for a controller quorum that the
  # first ones took away.
  for ((i = 1; i <= n; i++)); do
    kafka_node_paths "$i" "$n"
    stop_pidfile "kafka node $i" "$NODE_PID" kafka.Kafka &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || true; done
}

kafka_status() {
  local n i pid version
  n="$(kafka_made_nodes)"
  if ((n == 1)); then
    kafka_node_paths 1 1
    pid="$(live_pid "$NODE_PID" kafka.Kafka)"
    if [[ -n "$pid" ]]; then
      version="$(sed -n 's/.*Kafka version: \([^ ]*\).*/\1/p' "$NODE_LOG_DIR/kafka.log" 2>/dev/null | tail -n 1)"
      log "kafka: running, pid $pid, 127.0.0.1:$KAFKA_PORT (controller $CONTROLLER_PORT), Kafka ${version:-$KAFKA_VERSION}, log $NODE_LOG_DIR/kafka.log"
      kafka_secure_status 1
    elif port_open "$KAFKA_PORT"; then
      log "kafka: port $KAFKA_PORT answers, not started by this script (version unknown)"
    else
      log "kafka: not running"
    fi
    return 0
  fi
  local running=0 lines=()
  for ((i = 1; i <= n; i++)); do
    kafka_node_paths "$i" "$n"
    pid="$(live_pid "$NODE_PID" kafka.Kafka)"
    if [[ -n "$pid" ]]; then
      running=$((running + 1))
      lines+=("kafka node $i: running, pid $pid, 127.0.0.1:$(kafka_client_port "$i") (controller $(kafka_controller_port "$i")), log $NODE_LOG_DIR/kafka.log")
    else
      lines+=("kafka node $i: not running (127.0.0.1:$(kafka_client_port "$i"))")
    fi
  done
  if ((running == 0)); then
    log "kafka: not running (last made as a $n-node cluster in $STACK_DIR)"
    return 0
  fi
  for i in "${lines[@]}"; do log "$i"; done
  log "kafka: $n-node cluster, $running running, bootstrap $(kafka_bootstrap "$n"), topics RF $(kafka_rf "$n"), min.insync.replicas $(kafka_min_isr "$n")"
  kafka_secure_status "$n"
}
