# --kafka-secure and --redis-tls for scripts/stack.sh: certificates, SCRAM users, ACLs and the files
# a client needs, all under .stack/secure/ (mode 700). Sourced, not run on its own.
#
#   ca.pem, client.pem, client-key.pem, client.p12, truststore.p12, store.password   (certs.sh)
#   kafka-fraudscore.password, kafka-fraudscore-admin.password    SCRAM secrets (both mechanisms)
#   kafka-fraudscore.properties, kafka-admin.properties           Java client configs (SASL_SSL)
#   kafka.env                                                     endpoints and file paths, KEY=value
#   redis-fraudscore.password, redis-admin.password, redis-users.acl, redis.env
#
# Secrets are random at the first 'up' and kept for later ones (down/up keeps them).

# shellcheck source=certs.sh
source "$ROOT/scripts/stack/certs.sh"

secure_dir_ready() {
  mkdir -p "$SECURE_DIR"
  chmod 700 "$SECURE_DIR"
  make_certs "$SECURE_DIR" || die "making the test certificates in $SECURE_DIR failed"
}

kafka_client_properties() { # user file
  local pw store_pw
  pw="$(cat "$SECURE_DIR/kafka-$1.password")"
  store_pw="$(cat "$SECURE_DIR/store.password")"
  (
    umask 077
    cat >"$2" <<EOF_PROPS
# Written by scripts/stack.sh up --kafka-secure: Kafka's Java clients as $1 over SASL_SSL with mTLS.
security.protocol=SASL_SSL
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$1" password="$pw";
ssl.truststore.type=PEM
ssl.truststore.location=$SECURE_DIR/ca.pem
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECURE_DIR/client.p12
ssl.keystore.password=$store_pw
ssl.endpoint.identification.algorithm=https
EOF_PROPS
  )
}

secure_kafka_material() {
  secure_dir_ready
  secret_file "$SECURE_DIR/kafka-$KAFKA_SCORER_USER.password" >/dev/null
  secret_file "$SECURE_DIR/kafka-$KAFKA_ADMIN_USER.password" >/dev/null
  kafka_client_properties "$KAFKA_SCORER_USER" "$SECURE_DIR/kafka-$KAFKA_SCORER_USER.properties"
  kafka_client_properties "$KAFKA_ADMIN_USER" "$SECURE_DIR/kafka-admin.properties"
  cat >"$SECURE_DIR/kafka.env" <<EOF_ENV
# Written by scripts/stack.sh up --kafka-secure (read it; the scorer reads none of these names).
STACK_KAFKA_SASL_SSL_BROKERS=$(kafka_secure_bootstrap "$KAFKA_NODES")
STACK_KAFKA_PLAINTEXT_BROKERS=$(kafka_bootstrap "$KAFKA_NODES")
STACK_KAFKA_SASL_MECHANISMS=SCRAM-SHA-256,SCRAM-SHA-512
STACK_KAFKA_USERNAME=$KAFKA_SCORER_USER
STACK_KAFKA_PASSWORD_FILE=$SECURE_DIR/kafka-$KAFKA_SCORER_USER.password
STACK_KAFKA_ADMIN_USERNAME=$KAFKA_ADMIN_USER
STACK_KAFKA_ADMIN_PASSWORD_FILE=$SECURE_DIR/kafka-$KAFKA_ADMIN_USER.password
STACK_TLS_CA_FILE=$SECURE_DIR/ca.pem
STACK_TLS_CLIENT_CERT_FILE=$SECURE_DIR/client.pem
STACK_TLS_CLIENT_KEY_FILE=$SECURE_DIR/client-key.pem
STACK_KAFKA_CLIENT_PROPERTIES=$SECURE_DIR/kafka-$KAFKA_SCORER_USER.properties
STACK_KAFKA_ADMIN_PROPERTIES=$SECURE_DIR/kafka-admin.properties
EOF_ENV
}

kafka_secure_status() { # n
  kafka_node_paths 1 "$1"
  grep -q '^listener.name.sasl_ssl' "$NODE_DIR/server.properties" 2>/dev/null || return 0
  log "kafka: SASL_SSL (SCRAM-SHA-256/512, client certificate required, ACLs on) at $(kafka_secure_bootstrap "$1"); users $KAFKA_SCORER_USER, $KAFKA_ADMIN_USER (super); see $SECURE_DIR/kafka.env"
}

# Adds ACLs for a principal with Kafka's AclCommand over the PLAINTEXT listener (whose principal is a
# super user): Read on the read topics, Write on the write topics (Describe comes with both, and
# Write on a topic allows idempotent produce), Read on groups with the prefix, Write and Describe on
# transactional ids with the prefix. Idempotent. The four commands run at once (one JVM each).
kafka_grant_acls() { # principal "read topics" "write topics" group-prefix txn-prefix
  local principal="$1" bootstrap t pids=() rc=0 p
  local -a reads=() writes=()
  read -r -a reads <<<"$2"
  read -r -a writes <<<"$3"
  bootstrap="$(kafka_bootstrap "$(kafka_made_nodes)")"
  local acl=(org.apache.kafka.tools.AclCommand --bootstrap-server "$bootstrap" --add --allow-principal "$principal")
  local out="$STACK_DIR/acls.out"
  ensure_java
  ensure_kafka_jars
  ensure_kafka_tools
  : >"$out"
  if ((${#reads[@]} > 0)); then
    local args=()
    for t in "${reads[@]}"; do args+=(--topic "$t"); done
    kafka_tool "${acl[@]}" --operation Read "${args[@]}" >>"$out" 2>&1 &
    pids+=($!)
  fi
  if ((${#writes[@]} > 0)); then
    local args=()
    for t in "${writes[@]}"; do args+=(--topic "$t"); done
    kafka_tool "${acl[@]}" --operation Write "${args[@]}" >>"$out" 2>&1 &
    pids+=($!)
  fi
  if [[ -n "$4" ]]; then
    kafka_tool "${acl[@]}" --resource-pattern-type prefixed --operation Read --group "$4" >>"$out" 2>&1 &
    pids+=($!)
  fi
  if [[ -n "$5" ]]; then
    kafka_tool "${acl[@]}" --resource-pattern-type prefixed --operation Write --operation Describe \
      --transactional-id "$5" >>"$out" 2>&1 &
    pids+=($!)
  fi
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  if ((rc != 0)); then
    tail -n 40 "$out" >&2
    die "kafka: adding the ACLs of $principal failed"
  fi
  log "kafka: ACLs of $principal: Read ${reads[*]:-(none)}; Write ${writes[*]:-(none)}; group prefix '${4:-}'; transactional id prefix '${5:-}'"
}

kafka_grant_scorer_acls() {
  kafka_grant_acls "User:$KAFKA_SCORER_USER" "${KAFKA_SCORER_READ_TOPICS[*]}" "${KAFKA_SCORER_WRITE_TOPICS[*]}" \
    "$KAFKA_SCORER_GROUP_PREFIX" "$KAFKA_SCORER_TXN_PREFIX"
}
