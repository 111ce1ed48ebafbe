#!/usr/bin/env bash
# Test certificates for the secure local stack, made with openssl and keytool:
#
#   ca.pem / ca-key.pem            a private CA (CN fraudscore-stack-ca)
#   server.pem / server-key.pem    the Kafka brokers' and Redis' certificate, signed by the CA,
#                                  SAN DNS:localhost, IP:127.0.0.1 (hostname verification passes)
#   server.p12                     the same as a PKCS12 keystore for the brokers
#   client.pem / client-key.pem    a client certificate (CN fraudscore) for mTLS, and client.p12
#   truststore.p12                 the CA as a PKCS12 truststore for Java clients
#   store.password                 the password of the .p12 files
#
# Sourced by scripts/stack.sh (make_certs DIR), or run on its own: bash scripts/stack/certs.sh DIR
# (tests make a second, unrelated CA this way). Idempotent: an existing complete set is kept.

make_certs() { # dir
  local dir="$1" days=825 pw
  if [[ -s "$dir/.complete" ]]; then return 0; fi
  command -v openssl >/dev/null 2>&1 || { echo "[stack] ERROR: openssl not found (apt-get install -y openssl)" >&2; return 1; }
  command -v keytool >/dev/null 2>&1 || { echo "[stack] ERROR: keytool not found (it comes with the JDK)" >&2; return 1; }
  mkdir -p "$dir"
  chmod 700 "$dir"
  (
    set -euo pipefail
    umask 077
    cd "$dir"
    [[ -s store.password ]] || head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' >store.password
    pw="$(cat store.password)"
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" -keyout ca-key.pem -out ca.pem \
      -subj "/CN=fraudscore-stack-ca" -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    issue() { # name subject extensions
      openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$1-key.pem" -out "$1.csr" -subj "$2" 2>/dev/null
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -sha256 -days "$days" -in "$1.csr" -CA ca.pem -CAkey ca-key.pem -set_serial "0x$(openssl rand -hex 8)" \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
      openssl pkcs12 -export -in "$1.pem" -inkey "$1-key.pem" -certfile ca.pem -name "$1" -out "$1.p12" -passout "pass:$pw"
    }
    issue server "/CN=localhost" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
    issue client "/CN=fraudscore" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    rm -f truststore.p12
    keytool -importcert -noprompt -alias fraudscore-stack-ca -file ca.pem -keystore truststore.p12 \
      -storetype PKCS12 -storepass "$pw" >/dev/null 2>&1
    openssl verify -CAfile ca.pem server.pem client.pem >/dev/null
    chmod 644 ca.pem server.pem client.pem
    date -u +%FT%TZ >.complete
  )
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  [[ $# -eq 1 ]] || { echo "usage: $0 DIR" >&2; exit 2; }
  make_certs "$1"
fi
