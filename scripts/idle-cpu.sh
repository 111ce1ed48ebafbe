#!/usr/bin/env bash
# CPU time of an idle default scorer (Kafka consumer, Redis store) over 10 s, after 15 s of start-up:
# what a scorer costs with no traffic (the kafkajs idle-timer fix in src/kafka/kafkajs.ts is measured so).
# Needs the local stack (bash scripts/stack.sh up) and a build (npm run build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}" REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" \
  FRAUDSCORE_GROUP_ID="idle-cpu-$$" node bin/fraudscore.js run >/dev/null 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
sleep 15
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks)
sleep 10
t1=$(ticks)
echo "idle scorer: $(((t1 - t0) * 1000 / $(getconf CLK_TCK))) ms of CPU in 10 s"
