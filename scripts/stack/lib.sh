# Helpers shared by scripts/stack.sh and the files it sources (scripts/stack/*.sh). Not run on its own.

log() { printf '[stack] %s\n' "$*"; }
die() {
  printf '[stack] ERROR: %s\n' "$*" >&2
  exit 1
}

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
  rm -f "$pidfile"
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$logfile" 2>&1 &
  local i
  for i in $(seq 1 50); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.1
  done
  die "could not start $1 (no pid file $pidfile)"
}

# Stops the process of a pid file: TERM, then KILL after STOP_TIMEOUT_S. Only ever a pid this script
# recorded, and only while its command line still matches.
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
    # A JVM with a large heap can take a moment to go, more on a loaded machine.
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
  log "$name: stopped"
}

# SIGKILL, for failover tests: no shutdown hook runs, exactly like a crashed host.
kill_pidfile() { # name pidfile pattern
  local name="$1" pidfile="$2" pattern="$3" pid i
  pid="$(live_pid "$pidfile" "$pattern")"
  if [[ -z "$pid" ]]; then
    rm -f "$pidfile"
    log "$name: not running"
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$pidfile"
  log "$name: killed pid $pid (KILL)"
}

tail_logs() { # file...
  local f
  for f in "$@"; do
    if [[ -f "$f" ]]; then
      printf -- '--- last 40 lines of %s ---\n' "$f" >&2
      tail -n 40 "$f" >&2
    fi
  done
}

# A random secret of hex characters (no quoting trouble in JAAS, properties or ACL files).
random_secret() {
  head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

# Reads a secret from $1, creating it first when missing (mode 600), so 'up' after 'down' reuses it.
secret_file() { # path
  if [[ ! -s "$1" ]]; then
    (umask 077 && random_secret >"$1")
  fi
  cat "$1"
}
