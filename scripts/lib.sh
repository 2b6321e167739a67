# shellcheck shell=bash
# Shared settings and helpers for the service scripts. Source it; don't run it.
#
# Everything here is about running *real* servers for the tests (tansu for
# Kafka, Hadoop 2.7.3 for HDFS) on 127.0.0.1 only, started and stopped by PID.

# Repo root, found from this file so the scripts work from any cwd.
LAKESHORE_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

# Installs live outside the clone so a fresh clone (CI) reuses them.
LAKESHORE_CACHE=${LAKESHORE_CACHE:-$HOME/.cache/lakeshore}
# Data dirs, logs and pid files live inside the clone (wiped by `cargo clean`).
LAKESHORE_RUN=${LAKESHORE_RUN:-$LAKESHORE_ROOT/target/services}
# The scripts cd around: make both absolute.
[[ $LAKESHORE_CACHE == /* ]] || LAKESHORE_CACHE=$PWD/$LAKESHORE_CACHE
[[ $LAKESHORE_RUN == /* ]] || LAKESHORE_RUN=$PWD/$LAKESHORE_RUN
LAKESHORE_KAFKA_PORT=${LAKESHORE_KAFKA_PORT:-19092}
LAKESHORE_HDFS_PORT=${LAKESHORE_HDFS_PORT:-19000}
export LAKESHORE_CACHE LAKESHORE_RUN LAKESHORE_KAFKA_PORT LAKESHORE_HDFS_PORT

# Used by the scripts that source this file.
# shellcheck disable=SC2034
{
  TANSU_VERSION=0.6.0
  TANSU_HOME=$LAKESHORE_CACHE/tansu-$TANSU_VERSION
  TANSU_BIN=$TANSU_HOME/bin/tansu
  # Not HADOOP_HOME: Hadoop itself reads that variable.
  LAKESHORE_HADOOP=$LAKESHORE_CACHE/hadoop-2.7.3
}

# Scripts may be run from a shell that never sourced rustup's env (CI).
case ":$PATH:" in
  *":$HOME/.cargo/bin:"*) ;;
  *) if [[ -d $HOME/.cargo/bin ]]; then PATH=$HOME/.cargo/bin:$PATH; fi ;;
esac

# Tag shown in log lines; each script sets its own.
LOG_TAG=${LOG_TAG:-lakeshore}

log() {
  printf '[%s %s] %s\n' "$(date -u +%H:%M:%S)" "$LOG_TAG" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

# Seconds since the epoch with millis, for timings in logs.
now_ms() {
  date +%s%3N
}

# Print the last lines of each given log file (for failure reports).
show_tail() {
  local lines=$1 f
  shift
  for f in "$@"; do
    if [[ -f $f ]]; then
      printf -- '----- last %s lines of %s -----\n' "$lines" "$f" >&2
      tail -n "$lines" -- "$f" >&2
    fi
  done
}

# Run a command holding an exclusive lock on FILE, so two concurrent runs of
# an install never do the work twice (the second waits, then finds it done).
with_lock() {
  local lockfile=$1
  shift
  mkdir -p -- "$(dirname -- "$lockfile")"
  (
    flock -x 9
    "$@"
  ) 9>"$lockfile"
}

# apt-get install with one `apt-get update` first, unless the lists are fresh.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [[ -z $(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -120 2>/dev/null | head -n 1) ]]; then
    log "apt-get update"
    apt-get update -q
  fi
  log "apt-get install -y $*"
  apt-get install -y -q --no-install-recommends "$@" </dev/null
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

# --- pid files --------------------------------------------------------------
# A pid file holds "PID STARTTIME" (STARTTIME from /proc/PID/stat), so a
# recycled PID that now belongs to some other process is never signalled.

# Print "STATE STARTTIME" of a live PID, from /proc/PID/stat.
proc_state_start() {
  local stat rest f
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  rest=${stat##*) } # the command name may hold spaces; skip past it
  read -r -a f <<<"$rest"
  # f[0] is field 3 (state), f[19] is field 22 (start time in clock ticks).
  printf '%s %s\n' "${f[0]}" "${f[19]}"
}

write_pidfile() {
  local pidfile=$1 pid=$2 state st
  read -r state st < <(proc_state_start "$pid") || return 1
  printf '%s %s\n' "$pid" "$st" >"$pidfile"
}

# Print the PID recorded in PIDFILE if that very process is still alive:
# same start time, and not a zombie. (PID 1 here may be slow to reap; and a
# JVM whose main thread exited shows Z while its other threads still run and
# hold its ports, so Z only counts as dead once no other thread is left.)
pidfile_pid() {
  local pidfile=$1 pid st state now tasks
  [[ -f $pidfile ]] || return 1
  read -r pid st <"$pidfile" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  read -r state now < <(proc_state_start "$pid") || return 1
  [[ $now == "$st" ]] || return 1
  if [[ $state == Z ]]; then
    tasks=(/proc/"$pid"/task/*)
    ((${#tasks[@]} > 1)) || return 1
  fi
  printf '%s\n' "$pid"
}

# Stop the process recorded in PIDFILE: TERM, wait up to TIMEOUT s, then KILL.
# Only ever signals that one PID, and only if it is the process we started.
stop_pidfile() {
  local name=$1 pidfile=$2 timeout=${3:-15} pid i
  if ! pid=$(pidfile_pid "$pidfile"); then
    rm -f -- "$pidfile"
    log "$name: not running"
    return 0
  fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    pidfile_pid "$pidfile" >/dev/null || break
    sleep 0.1
  done
  if pidfile_pid "$pidfile" >/dev/null; then
    log "$name: still alive after ${timeout}s, sending KILL to $pid"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      pidfile_pid "$pidfile" >/dev/null || break
      sleep 0.1
    done
  fi
  rm -f -- "$pidfile"
  log "$name: stopped"
}

# Start "$@" in the background in directory DIR with output to LOG (the old
# log is kept as LOG.1), record it in PIDFILE. The process is the direct
# child (the subshell execs), so the recorded PID is the server itself.
start_daemon() {
  local dir=$1 logfile=$2 pidfile=$3
  shift 3
  mkdir -p -- "$dir" "$(dirname -- "$logfile")" "$(dirname -- "$pidfile")"
  if [[ -f $logfile ]]; then mv -f -- "$logfile" "$logfile.1"; fi
  (cd -- "$dir" && exec "$@") </dev/null >"$logfile" 2>&1 &
  local pid=$!
  write_pidfile "$pidfile" "$pid" || {
    show_tail 40 "$logfile"
    die "process exited at once: $*"
  }
  printf '%s\n' "$pid"
}

# Wait until 127.0.0.1:PORT accepts connections. Fails early if the process
# in PIDFILE dies, or after TIMEOUT seconds.
wait_for_port() {
  local port=$1 timeout=$2 pidfile=$3 deadline
  deadline=$((SECONDS + timeout))
  until port_open "$port"; do
    pidfile_pid "$pidfile" >/dev/null || { log "process died before port $port opened"; return 1; }
    ((SECONDS < deadline)) || { log "port $port not open after ${timeout}s"; return 1; }
    sleep 0.1
  done
}

# Wait until FILE contains a line matching the fixed string TEXT. Fails early
# if the process in PIDFILE dies, or after TIMEOUT seconds.
wait_for_log_line() {
  local file=$1 text=$2 timeout=$3 pidfile=$4 deadline
  deadline=$((SECONDS + timeout))
  until [[ -f $file ]] && grep -qF -- "$text" "$file"; do
    pidfile_pid "$pidfile" >/dev/null || { log "process died before logging '$text'"; return 1; }
    ((SECONDS < deadline)) || { log "no '$text' in $file after ${timeout}s"; return 1; }
    sleep 0.2
  done
}

# Fail if PORT is taken by a process that is not ours (e.g. another clone's
# services), rather than starting a server that cannot bind.
require_free_port() {
  local port=$1 what=$2
  if port_open "$port"; then
    ss -ltnp "sport = :$port" >&2 2>/dev/null || true
    die "$what: port 127.0.0.1:$port is already in use by a process these scripts did not start (stop it, or choose another port: LAKESHORE_KAFKA_PORT / LAKESHORE_HDFS_PORT)"
  fi
}
