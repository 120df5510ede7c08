package io.jmagent.loadgen;

import io.jmagent.backend.NettyTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.ssl.SslHandler;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * An open-loop load generator for memcached and the proxies in front of it (issue 17). It fills
 * each target's key space, finds the reference target's maximum rate with a short closed-loop run,
 * then runs every target at fixed fractions of that rate, target after target, round after round,
 * and prints markdown: percentiles from each request's intended start (HdrHistogram), merged over
 * the rounds. With {@code --closed-loop} it measures throughput instead: every target as fast as
 * it answers, round after round, with the CPU time each target's process spent per operation
 * ({@code --cpu-pid}), and each "X-tls" against "X" (issue 14: what TLS to clients costs). A
 * target may be TLS ({@code tls://}); its connections finish their handshakes before a run
 * starts. One event loop drives every connection, as memcaslap -T 1 does. Run by bench/latency
 * and bench/run ({@code BENCH_TLS=1}); {@code --help} lists the knobs.
 */
@Command(
        name = "loadgen",
        mixinStandardHelpOptions = true,
        description = "Open-loop get/set latency at fixed rates (or, with --closed-loop, throughput and CPU per"
                + " operation), side by side for several memcached targets.")
public final class LoadGenerator implements Callable<Integer> {

    @Option(
            names = "--target",
            required = true,
            paramLabel = "NAME=HOST:PORT",
            description =
                    "A target to measure, in the order of the table (repeatable); NAME=tls://HOST:PORT: over TLS.")
    private List<String> targetSpecs = new ArrayList<>();

    @Option(
            names = "--tls-ca",
            paramLabel = "FILE",
            description = "PEM CA certificates that tls:// targets' certificates must chain to (the host as written"
                    + " checked too).")
    private Path tlsCa;

    @Option(
            names = "--tls-insecure",
            description = "Trust any certificate of the tls:// targets instead (no --tls-ca).")
    private boolean tlsInsecure;

    @Option(
            names = "--closed-loop",
            description = "Measure throughput: every target closed loop (--max-depth in flight per connection),"
                    + " --seconds per run after a 1 s warm-up, --rounds rounds; no rates, no reference.")
    private boolean closedLoopMode;

    @Option(
            names = "--cpu-pid",
            paramLabel = "NAME=PID",
            description = "With --closed-loop: the process serving target NAME, whose CPU time (/proc/PID/stat)"
                    + " in each run's measured seconds is divided by its operations (repeatable).")
    private Map<String, Long> cpuPids = new LinkedHashMap<>();

    @Option(
            names = "--clock-ticks",
            defaultValue = "100",
            description = "Clock ticks per second of /proc/PID/stat (getconf CLK_TCK) (${DEFAULT-VALUE}).")
    private long clockTicks;

    @Option(
            names = "--baseline",
            defaultValue = "direct",
            description = "The target others' p99 is compared with (${DEFAULT-VALUE}).")
    private String baseline;

    @Option(
            names = "--reference",
            defaultValue = "twemproxy",
            description =
                    "The target whose maximum sets the rates, and whose added p99 the others' must not exceed (${DEFAULT-VALUE}).")
    private String reference;

    @Option(
            names = "--fractions",
            split = ",",
            defaultValue = "0.25,0.5,0.75",
            description = "Rates as fractions of the reference's maximum (${DEFAULT-VALUE}).")
    private List<Double> fractions;

    @Option(
            names = "--rates",
            split = ",",
            description = "Fixed rates in requests per second instead of fractions (no maximum is sought).")
    private List<Long> rates;

    @Option(
            names = "--connections",
            defaultValue = "32",
            description = "Connections to each target (${DEFAULT-VALUE}).")
    private int connections;

    @Option(
            names = "--max-depth",
            defaultValue = "1",
            description =
                    "Requests in flight per connection in closed-loop runs: the maximum, --closed-loop (${DEFAULT-VALUE}).")
    private int maxDepth;

    @Option(
            names = "--max-in-flight",
            defaultValue = "100",
            description =
                    "Requests in flight per connection at most; later ones wait in the generator, timed from their intended start (${DEFAULT-VALUE}).")
    private int maxInFlight;

    @Option(names = "--keys", defaultValue = "10000", description = "Key space (${DEFAULT-VALUE}).")
    private int keys;

    @Option(names = "--value-bytes", defaultValue = "100", description = "Value size (${DEFAULT-VALUE}).")
    private int valueBytes;

    @Option(
            names = "--get-share",
            defaultValue = "0.9",
            description = "Share of gets, the rest sets (${DEFAULT-VALUE}).")
    private double getShare;

    @Option(
            names = "--warmup-seconds",
            defaultValue = "1",
            description = "Untimed start of every run (${DEFAULT-VALUE}).")
    private double warmupSeconds;

    @Option(names = "--seconds", defaultValue = "4", description = "Measured part of every run (${DEFAULT-VALUE}).")
    private double seconds;

    @Option(names = "--rounds", defaultValue = "3", description = "Rounds of every rate and target (${DEFAULT-VALUE}).")
    private int rounds;

    @Option(
            names = "--max-seconds",
            defaultValue = "3",
            description = "Measured part of the closed-loop run for the maximum (${DEFAULT-VALUE}).")
    private double maxSeconds;

    @Option(
            names = "--jvm-warmup-seconds",
            defaultValue = "3",
            description =
                    "Closed-loop load on every target before anything is measured: warms the JITs (${DEFAULT-VALUE}).")
    private double jvmWarmupSeconds;

    @Option(
            names = "--drain-seconds",
            defaultValue = "2",
            description =
                    "How long a run waits for its last replies; later ones count as waiting until then (${DEFAULT-VALUE}).")
    private double drainSeconds;

    private final Map<String, Target> targets = new LinkedHashMap<>();
    private ClientTls tls;
    /** The protocol and cipher suite of the first TLS connection, for the header. */
    private String tlsSession;

    private MultiThreadIoEventLoopGroup group;
    private Bootstrap bootstrap;
    private final PrintStream progress = System.err;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LoadGenerator()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        for (String spec : targetSpecs) {
            try {
                Target t = Target.parse(spec);
                targets.put(t.name(), t);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(new CommandLine(this), "--target: " + e.getMessage());
            }
        }
        if (targets.values().stream().anyMatch(Target::tls)) {
            if ((tlsCa == null) == !tlsInsecure) {
                throw new CommandLine.ParameterException(
                        new CommandLine(this), "a tls:// target needs --tls-ca FILE or --tls-insecure (one of them)");
            }
            tls = tlsInsecure ? ClientTls.insecure() : ClientTls.trusting(tlsCa);
        }
        for (String name : cpuPids.keySet()) {
            if (!targets.containsKey(name)) {
                throw new CommandLine.ParameterException(
                        new CommandLine(this), "--cpu-pid " + name + " is no --target");
            }
        }
        Workload workload = new Workload(keys, valueBytes, getShare);
        NettyTransport transport = NettyTransport.named("epoll");
        group = transport.newGroup(1);
        bootstrap =
                new Bootstrap().group(group).channel(transport.socketChannel()).option(ChannelOption.TCP_NODELAY, true);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try {
            for (Target t : targets.values()) {
                KeySpaceFill.fill(t, tls, workload);
                closedLoop(t.name(), workload, jvmWarmupSeconds, null);
                progress.printf("loadgen: %s filled (%d keys) and warmed%n", t.name(), keys);
            }
            if (closedLoopMode) {
                throughput(workload, out);
                return 0;
            }
            Map<String, Long> rateOf = new LinkedHashMap<>();
            String header;
            if (rates != null && !rates.isEmpty()) {
                rates.forEach(r -> rateOf.put(r + "/s", r));
                header = "Fixed rates.";
            } else {
                if (!targets.containsKey(reference)) {
                    throw new CommandLine.ParameterException(
                            new CommandLine(this), "--reference " + reference + " is no --target");
                }
                RunResult max =
                        closedLoop(reference, workload, maxSeconds, null).result();
                long maxRate = Math.round(max.achievedRate());
                progress.printf(
                        Locale.ROOT,
                        "loadgen: %s's maximum: %d ops/s (closed loop, %d connections × %d)%n",
                        reference,
                        maxRate,
                        connections,
                        maxDepth);
                for (double f : fractions) {
                    rateOf.put(String.format(Locale.ROOT, "%.0f %%", f * 100), Math.max(1, Math.round(f * maxRate)));
                }
                header = String.format(
                        Locale.ROOT,
                        "%s's maximum: **%d ops/s** (closed loop: %d connections, %d request%s in flight on each,"
                                + " %.0f s after a 1 s warm-up; p50 %.0f µs, p99 %.0f µs from each request's send).",
                        reference,
                        maxRate,
                        connections,
                        maxDepth,
                        maxDepth == 1 ? "" : "s",
                        maxSeconds,
                        max.micros(50),
                        max.micros(99));
            }
            List<LatencyTable.Run> runs = new ArrayList<>();
            List<String> names = new ArrayList<>(targets.keySet());
            for (int round = 1; round <= rounds; round++) {
                // even rounds go through the targets backwards: none always runs first
                List<String> order = new ArrayList<>(names);
                if (round % 2 == 0) {
                    Collections.reverse(order);
                }
                for (Map.Entry<String, Long> rate : rateOf.entrySet()) {
                    for (String name : order) {
                        RunResult r = openLoop(name, workload, rate.getValue()).result();
                        runs.add(new LatencyTable.Run(round, rate.getKey(), r));
                        progress.printf(
                                Locale.ROOT,
                                "loadgen: round %d %6s %-12s %6d/s achieved %6.0f/s p50 %5.0f p99 %6.0f p99.9 %6.0f max %7.0f µs"
                                        + " (hits %d, misses %d, errors %d, unanswered %d)%n",
                                round,
                                rate.getKey(),
                                name,
                                rate.getValue(),
                                r.achievedRate(),
                                r.micros(50),
                                r.micros(99),
                                r.micros(99.9),
                                r.maxMicros(),
                                r.hits(),
                                r.misses(),
                                r.errors(),
                                r.unanswered());
                    }
                }
            }
            LatencyTable table = new LatencyTable(runs, names, baseline, reference);
            out.println(header);
            out.println();
            out.print(table.summary());
            String pairs = table.pairs("+b");
            if (!pairs.isEmpty()) {
                out.println();
                out.println(
                        "What the backup farm costs (the same jmagent with and without it, same rate, same rounds):");
                out.println();
                out.print(pairs);
            }
            out.println();
            out.println("## Every run");
            out.println();
            out.print(table.everyRun());
            return 0;
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /**
     * Closed-loop runs, target after target, round after round (even rounds backwards), then the
     * throughput table: ops/s, the target processes' CPU per operation, each X-tls against X.
     */
    private void throughput(Workload workload, PrintStream out) throws Exception {
        List<ThroughputTable.Run> runs = new ArrayList<>();
        List<String> names = new ArrayList<>(targets.keySet());
        for (int round = 1; round <= rounds; round++) {
            List<String> order = new ArrayList<>(names);
            if (round % 2 == 0) {
                Collections.reverse(order);
            }
            for (String name : order) {
                Long pid = cpuPids.get(name);
                ThroughputTable.Run r =
                        closedLoop(name, workload, seconds, pid == null ? null : new ProcessCpu(pid, clockTicks));
                runs.add(new ThroughputTable.Run(round, r.result(), r.cpuNanos()));
                progress.printf(
                        Locale.ROOT,
                        "loadgen: round %d %-12s %7.0f ops/s%s p50 %5.0f p99 %6.0f µs (errors %d, unanswered %d)%n",
                        round,
                        name,
                        r.result().achievedRate(),
                        r.hasCpu() ? String.format(Locale.ROOT, ", %.2f CPU µs/op", r.cpuMicrosPerOp()) : "",
                        r.result().micros(50),
                        r.result().micros(99),
                        r.result().errors(),
                        r.result().unanswered());
            }
        }
        ThroughputTable table = new ThroughputTable(runs, names);
        out.printf(
                Locale.ROOT,
                "Closed loop: %d connections per target, %d request%s in flight on each, %.0f s measured after a 1 s"
                        + " warm-up, %d round%s (even rounds in reverse order).%s%n",
                connections,
                maxDepth,
                maxDepth == 1 ? "" : "s",
                seconds,
                rounds,
                rounds == 1 ? "" : "s",
                tlsSession == null
                        ? ""
                        : " TLS: " + tlsSession + " (the generator's engine: " + tls.engineName() + "), handshakes"
                                + " done before each run.");
        out.println();
        out.print(table.summary());
        String pairs = table.pairs("-tls");
        if (!pairs.isEmpty()) {
            out.println();
            out.println("What TLS to clients costs (X-tls against X, paired round by round):");
            out.println();
            out.print(pairs);
        }
        out.println();
        out.println("## Every run");
        out.println();
        out.print(table.everyRun());
    }

    private ThroughputTable.Run openLoop(String target, Workload workload, long rate) throws Exception {
        return run(
                target,
                null,
                (loop, conns, start) -> new OpenLoopRun(
                        target,
                        rate,
                        loop,
                        conns,
                        workload,
                        start,
                        nanos(warmupSeconds),
                        nanos(seconds),
                        nanos(drainSeconds)));
    }

    /** A closed-loop run; {@code cpu} (or null) the process whose CPU time in the measured seconds is read. */
    private ThroughputTable.Run closedLoop(String target, Workload workload, double measureSeconds, ProcessCpu cpu)
            throws Exception {
        return run(
                target,
                cpu,
                (loop, conns, start) -> new ClosedLoopRun(
                        target,
                        maxDepth,
                        loop,
                        conns,
                        workload,
                        start,
                        nanos(1),
                        nanos(measureSeconds),
                        nanos(drainSeconds)));
    }

    private interface RunFactory {
        LoadRun create(EventLoop loop, List<LoadConnection> connections, long startNanos);
    }

    /**
     * Opens fresh connections to {@code target} (TLS ones with their handshakes done), runs one run
     * over them and closes them; reads {@code cpu} (or null) at the start and end of the run's
     * measuring window, from this thread. The result's round is 0.
     */
    private ThroughputTable.Run run(String target, ProcessCpu cpu, RunFactory factory) throws Exception {
        Target t = targets.get(target);
        List<Channel> channels = new ArrayList<>();
        List<LoadConnection> conns = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                LoadConnection c = new LoadConnection(maxInFlight);
                Channel ch = bootstrap
                        .clone()
                        .handler(t.tls() ? tlsInitializer(t, c) : c)
                        .connect(t.address())
                        .sync()
                        .channel();
                channels.add(ch);
                conns.add(c);
                if (t.tls()) {
                    SslHandler ssl = ch.pipeline().get(SslHandler.class);
                    ssl.handshakeFuture().sync();
                    if (tlsSession == null) {
                        tlsSession = ssl.engine().getSession().getProtocol() + " "
                                + ssl.engine().getSession().getCipherSuite();
                    }
                }
            }
            long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
            LoadRun run = factory.create(channels.get(0).eventLoop(), conns, start);
            CompletableFuture<RunResult> result = run.start();
            long cpuNanos = -1;
            if (cpu != null) {
                sleepUntil(run.windowStartNanos);
                long before = cpu.nanos();
                sleepUntil(run.windowEndNanos);
                cpuNanos = cpu.nanos() - before;
            }
            // a guard against a run that never ends; a run ends by itself after its drain
            return new ThroughputTable.Run(0, result.get(10, TimeUnit.MINUTES), cpuNanos);
        } finally {
            for (Channel ch : channels) {
                ch.close().syncUninterruptibly();
            }
        }
    }

    private ChannelInitializer<Channel> tlsInitializer(Target target, LoadConnection connection) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(tls.newHandler(ch.alloc(), target), connection);
            }
        };
    }

    private static void sleepUntil(long nanoTime) throws InterruptedException {
        long wait = nanoTime - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    private static long nanos(double seconds) {
        return Math.round(seconds * 1e9);
    }
}
