# Shared by bench/run, bench/profile, bench/perf, bench/memory and the bundle's run script
# (bench/bundle copies this file into it): installs what is missing, builds the jar, starts
# processes on free loopback ports, stops them all on exit, measures runs and tabulates them.
# What it calls beyond bash (awk, sed, mktemp, timeout, ...) busybox provides as well.

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

# bench_loadgen: compiles the load generator (test code, src/test/java/io/jmagent/loadgen: built with
# the tests, never in target/jmagent.jar) when the sources or the pom are newer than its class path
# file, and sets BENCH_LOADGEN to the command that runs it (its own JVM flags: a large young
# generation under the parallel collector keeps its collections out of the runs)
bench_loadgen() {
  if [ ! -f target/loadgen.classpath ] || [ -n "$(find src pom.xml -newer target/loadgen.classpath -print -quit)" ]; then
    echo "bench: compiling the load generator"
    mvn -B -q test-compile
    mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
      -Dmdep.outputFile=target/loadgen.classpath -Dmdep.includeScope=test >/dev/null
    touch target/loadgen.classpath
  fi
  BENCH_LOADGEN=(java -XX:+UseParallelGC -Xms512m -Xmx512m -Xmn384m
    -cp "target/test-classes:target/classes:$(cat target/loadgen.classpath)" io.jmagent.loadgen.LoadGenerator)
}

# bench_tls_certs DIR: a throwaway CA (DIR/ca.pem) and a certificate for 127.0.0.1 that it signed
# (DIR/server.pem, with its PKCS#8 key DIR/server.key), RSA 2048, valid two days, made by openssl
bench_tls_certs() {
  local d="$1"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
    -subj /CN=jmagent-bench-ca 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" -subj /CN=127.0.0.1 2>/dev/null
  echo "subjectAltName=IP:127.0.0.1" >"$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
    -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
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
# bench_free_port VAR: a loopback port nothing listens on (and not handed out before), in VAR;
# below Linux's ephemeral range (32768 and up), where an outgoing connection may hold a port that
# no listener shows and the bind then fails
bench_free_port() {
  local candidate
  while :; do
    candidate=$((20000 + RANDOM % 12000))
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
# bench_hz: clock ticks per second; USER_HZ is 100 on every Linux where getconf is missing (busybox)
bench_hz() { getconf CLK_TCK 2>/dev/null || echo 100; }

# bench_memcached N: starts N memcached servers (with BENCH_MEMCACHED_ARGS, e.g. "-t 4", added);
# their ports in BENCH_SERVER_PORTS, pids in BENCH_SERVER_PIDS
bench_memcached() {
  local user=() p i
  [ "$(id -u)" -eq 0 ] && user=(-u root)
  BENCH_SERVER_PORTS=()
  BENCH_SERVER_PIDS=()
  for i in $(seq 1 "$1"); do
    bench_free_port p
    BENCH_SERVER_PORTS+=("$p")
    # shellcheck disable=SC2086 # BENCH_MEMCACHED_ARGS: extra memcached flags, split on spaces
    bench_spawn "$BENCH_WORK/memcached-$p.log" memcached "${user[@]}" -l 127.0.0.1 -p "$p" -U 0 -m 256 \
      ${BENCH_MEMCACHED_ARGS:-}
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

# bench_twemproxy: starts twemproxy (BENCH_NUTCRACKER, default nutcracker) over BENCH_SERVER_PORTS:
# ketama, md5, no ejection, weight 1, its own stats port; BENCH_TWEM_PORT, BENCH_TWEM_PID
bench_twemproxy() {
  local stats_port p
  bench_free_port BENCH_TWEM_PORT
  bench_free_port stats_port
  {
    echo "bench:"
    echo "  listen: 127.0.0.1:$BENCH_TWEM_PORT"
    echo "  hash: md5"
    echo "  distribution: ketama"
    echo "  auto_eject_hosts: false"
    echo "  servers:"
    for p in "${BENCH_SERVER_PORTS[@]}"; do echo "   - 127.0.0.1:$p:1"; done
  } >"$BENCH_WORK/nutcracker.yml"
  bench_spawn "$BENCH_WORK/nutcracker.out" "${BENCH_NUTCRACKER:-nutcracker}" -c "$BENCH_WORK/nutcracker.yml" \
    -a 127.0.0.1 -s "$stats_port" -o "$BENCH_WORK/nutcracker.log" -p "$BENCH_WORK/nutcracker.pid"
  BENCH_TWEM_PID=$BENCH_PID
  bench_wait_port "$BENCH_TWEM_PORT"
}

# bench_measure RAW LOAD TARGET ROUND PORT PID SECONDS FLAGS...: one memcaslap run of FLAGS against
# PORT, with the CPU time process PID used during it and its RSS after it (0 for TARGET direct);
# appends one line to RAW: load target round tps avg_us events rss_kb cpu_ticks histogram, where the
# histogram is memcaslap's "Total Statistics" log2 distribution as i:count,...; bucket i holds
# latencies in (2^(i-1), 2^i] microseconds (ms_stats.c, ms_local_log2). Prints a progress line;
# fails if a process bench_spawn started is gone.
bench_measure() {
  local raw="$1" load="$2" target="$3" round="$4" port="$5" pid="$6" secs="$7" ticks_before ticks rss
  shift 7
  local out="$BENCH_WORK/$load-$target-$round.out"
  ticks_before="$(bench_cpu_ticks "$pid")"
  bench_slap "$port" "$secs" "$out" "$@"
  ticks=$(($(bench_cpu_ticks "$pid") - ticks_before))
  rss="$(bench_rss_kb "$pid")"
  [ "$target" = direct ] && rss=0
  bench_alive || return 1
  awk -v load="$load" -v target="$target" -v round="$round" -v rss="$rss" -v ticks="$ticks" '
    /^Total Statistics \(/ { total = 1; next }
    total && /^ *Avg:/ { avg = $2 }
    total && /Log2 Dist:/ { dist = 1; next }
    dist && /^ *[0-9]+:/ {
      i = $1; sub(":", "", i)
      for (f = 2; f <= NF; f++) { hist = hist (hist == "" ? "" : ",") i ":" $f; events += $f; i++ }
      next
    }
    dist { dist = 0; total = 0 }
    /^Run time:/ { for (f = 1; f <= NF; f++) if ($f == "TPS:") tps = $(f + 1) }
    END {
      if (tps == "") { tps = "FAILED"; avg = 0; events = 0; hist = "-" }
      printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", load, target, round, tps, avg, events, rss, ticks, hist
    }' "$out" >>"$raw"
  printf 'bench: round %s %-10s %-12s %10s ops/s\n' "$round" "$load" "$target" "$(tail -1 "$raw" | cut -f4)"
  if tail -1 "$raw" | grep -q FAILED; then { echo "--- memcaslap output:"; cat "$out"; } >&2; fi
}

# bench_table RAW TITLES TARGETS LOADS SECONDS: the table of RAW (bench_measure's lines), one row per
# load and target in the order given: mean ops/s over the rounds, min – max, the ratios to the
# targets named twemproxy and direct, latency, CPU µs per operation and RSS. TITLES is
# "load=title;load=title...".
bench_table() {
  awk -F'\t' -v titles="$2" -v targets="$3" -v loads="$4" -v hz="$(bench_hz)" -v secs="$5" '
  BEGIN {
    n = split(titles, t, ";"); for (k = 1; k <= n; k++) { split(t[k], kv, "="); title[kv[1]] = kv[2] }
    nl = split(loads, L, " "); nt = split(targets, T, " ")
  }
  $4 == "FAILED" { failed[$1, $2]++; next }
  {
    k = $1 SUBSEP $2
    runs[k]++; sum[k] += $4
    if (!(k in lo) || $4 < lo[k]) lo[k] = $4
    if (!(k in hi) || $4 > hi[k]) hi[k] = $4
    ev[k] += $6; lat[k] += $5 * $6
    if ($7 > 0 && $7 > rss[k]) rss[k] = $7
    cpu[k] += $8 / hz; ops[k] += $4 * secs
    nb = split($9, b, ",")
    for (j = 1; j <= nb; j++) { split(b[j], ic, ":"); h[k, ic[1]] += ic[2]; if (ic[1] + 0 > top[k] + 0) top[k] = ic[1] + 0 }
  }
  # the upper bound 2^i of the bucket that holds the q-quantile (busybox awk has no ^)
  function pct(k, q,    need, acc, i, bound) {
    need = q * ev[k]; acc = 0; bound = 1
    for (i = 0; i <= top[k]; i++) { acc += h[k, i]; if (acc >= need) return bound; bound *= 2 }
    return "?"
  }
  END {
    print "| load | target | ops/s (mean) | min – max | vs twemproxy | vs direct | avg µs | p50 µs ≤ | p99 µs ≤ | CPU µs/op | RSS MB |"
    print "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    for (a = 1; a <= nl; a++) for (c = 1; c <= nt; c++) {
      k = L[a] SUBSEP T[c]
      if (!(k in runs)) { printf "| %s | %s | failed | | | | | | | | |\n", title[L[a]], T[c]; continue }
      mean[k] = sum[k] / runs[k]
    }
    for (a = 1; a <= nl; a++) for (c = 1; c <= nt; c++) {
      k = L[a] SUBSEP T[c]
      if (!(k in runs)) continue
      tw = L[a] SUBSEP "twemproxy"; di = L[a] SUBSEP "direct"
      printf "| %s | %s | %.0f | %.0f – %.0f | %s | %s | %.0f | %s | %s | %.1f | %s |\n", title[L[a]], T[c], mean[k], lo[k], hi[k],
        (tw in mean) ? sprintf("%.2f", mean[k] / mean[tw]) : "-",
        (di in mean) ? sprintf("%.2f", mean[k] / mean[di]) : "-",
        ev[k] ? lat[k] / ev[k] : 0, pct(k, 0.5), pct(k, 0.99),
        ops[k] ? cpu[k] * 1e6 / ops[k] : 0,
        (k in rss) ? sprintf("%.0f", rss[k] / 1024) : "-"
      if ((L[a], T[c]) in failed) printf "| | (%d failed runs left out) | | | | | | | | | |\n", failed[L[a], T[c]]
    }
  }' "$1"
}

# bench_rounds_table RAW SECONDS: every run of RAW, one row each
bench_rounds_table() {
  echo "| round | load | target | ops/s | avg µs | CPU s | CPU µs/op | RSS MB |"
  echo "|---:|---|---|---:|---:|---:|---:|---:|"
  awk -F'\t' -v hz="$(bench_hz)" -v secs="$2" '{ printf "| %s | %s | %s | %s | %s | %.2f | %s | %s |\n", $3, $1, $2, $4, $5, $8 / hz, ($4 > 0 ? sprintf("%.2f", ($8 / hz) * 1e6 / ($4 * secs)) : "-"), $7 ? sprintf("%.0f", $7 / 1024) : "-" }' "$1"
}
