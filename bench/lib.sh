# Shared by bench/run and bench/profile (sourced, not run): installs what is missing, builds the
# jar, starts processes on free loopback ports and stops them all on exit.

# bench_install CMD:PACKAGE ...: installs each PACKAGE whose CMD is not on the PATH (nor in /usr/sbin)
bench_install() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || missing+=("${pair#*:}")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "bench: installing ${missing[*]}"
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

bench_build() {
  if [ ! -f target/jmagent.jar ] || [ -n "$(find src/main pom.xml -newer target/jmagent.jar -print -quit)" ]; then
    echo "bench: building target/jmagent.jar"
    mvn -B -q package -DskipTests
  fi
}

# Every process started through bench_spawn is stopped on exit, and the work directory removed.
BENCH_WORK="$(mktemp -d /tmp/jmagent-bench.XXXXXX)"
bench_pids=()
bench_cleanup() {
  # a child signalled between fork and exec still has this trap: only the script itself cleans up
  [ "$BASHPID" = "$$" ] || return 0
  for p in "${bench_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${bench_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$BENCH_WORK"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# bench_spawn LOG CMD...: starts CMD in the background, output to LOG; its pid in BENCH_PID
bench_logs=()
bench_spawn() {
  local log="$1"; shift
  "$@" >"$log" 2>&1 &
  BENCH_PID=$!
  bench_pids+=("$BENCH_PID")
  bench_logs+=("$log")
}

# bench_alive: fails, naming it and showing the end of its log, if a process bench_spawn started is gone
bench_alive() {
  local i
  for i in "${!bench_pids[@]}"; do
    if ! kill -0 "${bench_pids[$i]}" 2>/dev/null; then
      echo "bench: $(basename "${bench_logs[$i]}" | sed 's/\.[a-z]*$//') (pid ${bench_pids[$i]}) is gone; the end of its log:" >&2
      tail -5 "${bench_logs[$i]}" >&2
      return 1
    fi
  done
}

bench_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
bench_taken=" "
# bench_free_port VAR: a loopback port nothing listens on (and not handed out before), in VAR
bench_free_port() {
  local candidate
  while :; do
    candidate=$((20000 + RANDOM % 20000))
    if [[ "$bench_taken" != *" $candidate "* ]] && bench_port_free "$candidate"; then
      bench_taken+="$candidate "
      printf -v "$1" '%s' "$candidate"
      return
    fi
  done
}
bench_wait_port() {
  for _ in $(seq 1 150); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "bench: nothing listening on 127.0.0.1:$1 after 15 s" >&2
  bench_alive
  local log
  for log in "${bench_logs[@]}"; do
    [ -s "$log" ] && { echo "--- $log:"; tail -5 "$log"; } >&2
  done
  return 1
}
bench_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# bench_cpu_ticks PID: CPU time the process used so far, user + system, in clock ticks (getconf CLK_TCK)
bench_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# bench_memcached N: starts N memcached servers; their ports in BENCH_SERVER_PORTS, pids in BENCH_SERVER_PIDS
bench_memcached() {
  local user=() p i
  [ "$(id -u)" -eq 0 ] && user=(-u root)
  BENCH_SERVER_PORTS=()
  BENCH_SERVER_PIDS=()
  for i in $(seq 1 "$1"); do
    bench_free_port p
    BENCH_SERVER_PORTS+=("$p")
    bench_spawn "$BENCH_WORK/memcached-$p.log" memcached "${user[@]}" -l 127.0.0.1 -p "$p" -U 0 -m 256
    BENCH_SERVER_PIDS+=("$BENCH_PID")
  done
  for p in "${BENCH_SERVER_PORTS[@]}"; do bench_wait_port "$p"; done
}

# bench_jmagent [JVM FLAGS...]: starts jmagent (BENCH_JMAGENT_JAR, default target/jmagent.jar) over
# BENCH_SERVER_PORTS (plus BENCH_JMAGENT_ARGS); BENCH_JMAGENT_PORT, BENCH_JMAGENT_PID
bench_jmagent() {
  local servers=() p
  for p in "${BENCH_SERVER_PORTS[@]}"; do servers+=(-s "127.0.0.1:$p"); done
  bench_free_port BENCH_JMAGENT_PORT
  # shellcheck disable=SC2086 # BENCH_JMAGENT_ARGS: extra jmagent flags, split on spaces
  BENCH_JMAGENT_LOG="$BENCH_WORK/jmagent-$BENCH_JMAGENT_PORT.log"
  bench_spawn "$BENCH_JMAGENT_LOG" java "$@" -jar "${BENCH_JMAGENT_JAR:-target/jmagent.jar}" -l 127.0.0.1 -p "$BENCH_JMAGENT_PORT" \
    "${servers[@]}" ${BENCH_JMAGENT_ARGS:-}
  BENCH_JMAGENT_PID=$BENCH_PID
  bench_wait_port "$BENCH_JMAGENT_PORT"
}

# bench_jmagent_transport: the transport the last bench_jmagent picked, from its log (io_uring, epoll, nio)
bench_jmagent_transport() {
  sed -n 's/.*listening on .* (\([a-z_]*\) transport.*/\1/p' "$BENCH_JMAGENT_LOG" | head -1
}

# bench_slap PORT SECONDS OUTFILE FLAGS...: one memcaslap run with latency statistics (-S)
bench_slap() {
  local port="$1" secs="$2" out="$3"; shift 3
  timeout $((secs + 30)) memcaslap -s "127.0.0.1:$port" "$@" -t "${secs}s" -S "${secs}s" >"$out" 2>&1 || true
}
