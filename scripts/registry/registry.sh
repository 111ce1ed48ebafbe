#!/usr/bin/env bash
# A Confluent-compatible schema registry for the native stack: Apicurio Registry (in-memory storage),
# built from Maven Central with the Quarkus build step (pom.xml beside this file) into one jar that
# is cached in ${FRAUDSCORE_CACHE:-$HOME/.cache/fraudscore}, and run with the installed Java 17.
#
#   scripts/registry/registry.sh build    build the jar once (idempotent: a cached jar is kept)
#   scripts/registry/registry.sh up       build if needed, start, wait until ready (idempotent)
#   scripts/registry/registry.sh down     stop what `up` started (by pid file only)
#   scripts/registry/registry.sh status   print the URL if it answers; exit 1 if not
#
# Environment: FRAUDSCORE_REGISTRY_PORT (default 8081), FRAUDSCORE_STACK_DIR (pid file and log,
# default <project>/.stack), FRAUDSCORE_CACHE. The Confluent API is then at
# http://127.0.0.1:$PORT/apis/ccompat/v7 (give that to fraudscore as SCHEMA_REGISTRY_URL).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STACK_DIR="${FRAUDSCORE_STACK_DIR:-$ROOT/.stack}"
CACHE_DIR="${FRAUDSCORE_CACHE:-$HOME/.cache/fraudscore}"
PORT="${FRAUDSCORE_REGISTRY_PORT:-8081}"
VERSION="$(sed -n 's:.*<apicurio.version>\(.*\)</apicurio.version>.*:\1:p' "$HERE/pom.xml")"
JAR="$CACHE_DIR/apicurio-registry-$VERSION-runner.jar"
PID_FILE="$STACK_DIR/registry.pid"
LOG="$STACK_DIR/registry.log"
URL="http://127.0.0.1:$PORT/apis/ccompat/v7"

say() { echo "registry: $*" >&2; }

answers() { curl -fsS -o /dev/null --max-time 2 "$URL/subjects" 2>/dev/null; }

live_pid() {
  [[ -f "$PID_FILE" ]] || return 0
  local pid
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  # Survive pid reuse: only our java running our jar counts.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "apicurio-registry-.*-runner.jar" && echo "$pid"
  return 0
}

build() {
  [[ -f "$JAR" ]] && return 0
  mkdir -p "$CACHE_DIR"
  local work log start
  work="$(mktemp -d)"
  log="$work/build.log"
  cp -r "$HERE/pom.xml" "$HERE/src" "$work/"
  start=$(date +%s)
  say "building Apicurio Registry $VERSION with Maven (first time only; log $log)"
  if ! (cd "$work" && mvn -B -q -DskipTests package >"$log" 2>&1); then
    local why
    why="$(grep -o 'Could not [a-z]* [^:]*artifact[^ ]* [^ ]*\|Could not resolve dependencies[^:]*: [^:]*' "$log" | head -1)"
    say "build failed: ${why:-see $log} (scripts/registry/README.md says what Maven Central must serve)"
    return 1
  fi
  cp "$work"/target/*-runner.jar "$JAR"
  rm -rf "$work"
  say "built $JAR in $(($(date +%s) - start)) s"
}

up() {
  if [[ -n "$(live_pid)" ]] && answers; then
    echo "$URL"
    return 0
  fi
  if answers; then
    say "something else already answers on port $PORT; set FRAUDSCORE_REGISTRY_PORT"
    return 1
  fi
  build
  mkdir -p "$STACK_DIR"
  local start
  start=$(date +%s)
  nohup java -Xmx512m -Dquarkus.http.port="$PORT" -Dquarkus.http.host=127.0.0.1 -jar "$JAR" >"$LOG" 2>&1 &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 240); do
    if answers; then
      say "ready on $URL in $(($(date +%s) - start)) s"
      echo "$URL"
      return 0
    fi
    if [[ -z "$(live_pid)" ]]; then
      say "exited before it was ready; last lines of $LOG:"
      tail -5 "$LOG" >&2
      return 1
    fi
    sleep 0.5
  done
  say "not ready after 120 s; see $LOG"
  down
  return 1
}

down() {
  local pid
  pid="$(live_pid)"
  if [[ -n "$pid" ]]; then
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$PID_FILE"
}

status() {
  if answers; then echo "$URL"; else say "not answering on $URL"; return 1; fi
}

case "${1:-}" in
  build) build ;;
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 build|up|down|status" >&2; exit 2 ;;
esac
