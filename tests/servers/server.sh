#!/usr/bin/env bash
# Starts/stops a Redis or memcached server on 127.0.0.1 at a free port, for CTest fixtures
# (FIXTURES_SETUP / FIXTURES_CLEANUP). The port and pid are written to STATE_DIR/<kind>.port and
# STATE_DIR/<kind>.pid; tests read the port through TWAT_CACHE_TEST_SERVERS_DIR.
#
#   server.sh start redis|memcached STATE_DIR
#   server.sh stop  redis|memcached STATE_DIR
set -euo pipefail

readonly max_attempts=30
readonly ready_steps=200 # x 50 ms = 10 s to come up
readonly stop_steps=100  # x 50 ms = 5 s after SIGTERM before SIGKILL

die() {
  echo "server.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start|stop redis|memcached STATE_DIR" >&2
  exit 2
}

# True while the process exists and is not a zombie (a dead child stays a zombie until reaped).
alive() {
  local pid=$1 stat
  if [[ -r /proc/$pid/stat ]]; then
    { read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
  else
    kill -0 "$pid" 2>/dev/null
  fi
}

# Prints the pid the server on $port reports about itself; fails if nothing (ours) answers.
# Asking the pid tells our server apart from a foreign one that already held the port.
server_pid() {
  local kind=$1 port=$2 out
  if [[ $kind == redis ]]; then
    out=$(timeout 2 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) || return 1
    [[ $out == PONG ]] || return 1
    out=$(timeout 2 redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null) || return 1
    out=$(tr -d '\r' <<<"$out" | sed -n 's/^process_id://p')
  else
    # shellcheck disable=SC2016 # $1 expands in the inner bash
    out=$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
      printf "version\r\nstats\r\nquit\r\n" >&3 && cat <&3' _ "$port" 2>/dev/null) || return 1
    out=$(tr -d '\r' <<<"$out")
    grep -q '^VERSION ' <<<"$out" || return 1
    out=$(sed -n 's/^STAT pid //p' <<<"$out")
  fi
  [[ -n $out ]] && echo "$out"
}

port_taken() {
  # shellcheck disable=SC2016 # $1 expands in the inner bash
  timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null
}

stop_server() {
  local kind=$1 dir=$2 pid="" args=""
  [[ -f $dir/$kind.pid ]] && pid=$(<"$dir/$kind.pid")
  [[ $pid =~ ^[0-9]+$ ]] && args=$(ps -o args= -p "$pid" 2>/dev/null || true)
  # Only signal the pid if it still runs our server: pids get reused.
  if [[ $args == *redis-server* || $args == *memcached* ]] && alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < stop_steps; i++)); do
      alive "$pid" || break
      sleep 0.05
    done
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/$kind.pid" "$dir/$kind.port"
}

start_server() {
  local kind=$1 dir=$2 bin
  case $kind in
    redis) bin=redis-server ;;
    memcached) bin=memcached ;;
  esac
  command -v "$bin" >/dev/null || die "$bin not found in PATH; install it to run the $kind tests"
  [[ $kind != redis ]] || command -v redis-cli >/dev/null || die "redis-cli not found in PATH"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd) # redis chdirs to --dir, so paths must be absolute
  # A server left by an interrupted run would otherwise leak.
  stop_server "$kind" "$dir"

  local log=$dir/$kind.log attempt port pid i reported
  for ((attempt = 1; attempt <= max_attempts; attempt++)); do
    port=$((20000 + ((RANDOM << 15) | RANDOM) % 40000))
    port_taken "$port" && continue
    local -a cmd
    if [[ $kind == redis ]]; then
      cmd=("$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir"
        --daemonize no --logfile "$log")
    else
      cmd=("$bin" -l 127.0.0.1 -p "$port" -U 0 -m 64)
      [[ $(id -u) -ne 0 ]] || cmd+=(-u root) # memcached refuses to run as root otherwise
    fi
    # setsid + all fds redirected: CTest must not wait on the server's stdout/stderr.
    setsid "${cmd[@]}" </dev/null >>"$log" 2>&1 &
    pid=$!
    for ((i = 0; i < ready_steps; i++)); do
      alive "$pid" || break # could not bind: the port was taken
      if reported=$(server_pid "$kind" "$port") && [[ $reported == "$pid" ]]; then
        echo "$port" >"$dir/$kind.port.tmp"
        echo "$pid" >"$dir/$kind.pid.tmp"
        mv "$dir/$kind.pid.tmp" "$dir/$kind.pid"
        mv "$dir/$kind.port.tmp" "$dir/$kind.port"
        echo "server.sh: $kind listening on 127.0.0.1:$port (pid $pid, log $log)"
        exit 0
      fi
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  die "could not start $kind on a free port after $max_attempts attempts; see $log"
}

[[ $# -eq 3 ]] || usage
case $2 in redis | memcached) ;; *) usage ;; esac
case $1 in
  start) start_server "$2" "$3" ;;
  stop) stop_server "$2" "$3" ;;
  *) usage ;;
esac
