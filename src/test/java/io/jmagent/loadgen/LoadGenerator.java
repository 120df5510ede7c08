package io.jmagent.loadgen;

import io.jmagent.backend.NettyTransport;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * An open-loop load generator for memcached and the proxies in front of it (issue 17). It fills
 * each target's key space, finds the reference target's maximum rate with a short closed-loop run,
 * then runs every target at fixed fractions of that rate, target after target, round after round,
 * and prints markdown: percentiles from each request's intended start (HdrHistogram), merged over
 * the rounds. One event loop drives every connection, as memcaslap -T 1 does. Run by bench/latency;
 * {@code --help} lists the knobs.
 */
@Command(
        name = "loadgen",
        mixinStandardHelpOptions = true,
        description = "Open-loop get/set latency at fixed rates, side by side for several memcached targets.")
public final class LoadGenerator implements Callable<Integer> {

    @Option(
            names = "--target",
            required = true,
            paramLabel = "NAME=HOST:PORT",
            description = "A target to measure, in the order of the table (repeatable).")
    private List<String> targetSpecs = new ArrayList<>();

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
            description = "Requests in flight per connection while seeking the maximum (${DEFAULT-VALUE}).")
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

    private final Map<String, InetSocketAddress> targets = new LinkedHashMap<>();
    private MultiThreadIoEventLoopGroup group;
    private Bootstrap bootstrap;
    private final PrintStream progress = System.err;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LoadGenerator()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        for (String spec : targetSpecs) {
            int eq = spec.indexOf('=');
            int colon = spec.lastIndexOf(':');
            if (eq <= 0 || colon < eq) {
                throw new CommandLine.ParameterException(
                        new CommandLine(this), "--target: expected NAME=HOST:PORT, got " + spec);
            }
            targets.put(
                    spec.substring(0, eq),
                    new InetSocketAddress(spec.substring(eq + 1, colon), Integer.parseInt(spec.substring(colon + 1))));
        }
        Workload workload = new Workload(keys, valueBytes, getShare);
        NettyTransport transport = NettyTransport.named("epoll");
        group = transport.newGroup(1);
        bootstrap =
                new Bootstrap().group(group).channel(transport.socketChannel()).option(ChannelOption.TCP_NODELAY, true);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try {
            for (Map.Entry<String, InetSocketAddress> t : targets.entrySet()) {
                KeySpaceFill.fill(t.getValue(), workload);
                closedLoop(t.getKey(), workload, jvmWarmupSeconds);
                progress.printf("loadgen: %s filled (%d keys) and warmed%n", t.getKey(), keys);
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
                RunResult max = closedLoop(reference, workload, maxSeconds);
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
                        RunResult r = openLoop(name, workload, rate.getValue());
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

    private RunResult openLoop(String target, Workload workload, long rate) throws Exception {
        return run(
                target,
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

    private RunResult closedLoop(String target, Workload workload, double measureSeconds) throws Exception {
        return run(
                target,
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

    /** Opens fresh connections to {@code target}, runs one run over them and closes them. */
    private RunResult run(String target, RunFactory factory) throws Exception {
        List<Channel> channels = new ArrayList<>();
        List<LoadConnection> conns = new ArrayList<>();
        try {
            for (int i = 0; i < connections; i++) {
                LoadConnection c = new LoadConnection(maxInFlight);
                Channel ch = bootstrap
                        .clone()
                        .handler(c)
                        .connect(targets.get(target))
                        .sync()
                        .channel();
                channels.add(ch);
                conns.add(c);
            }
            long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
            LoadRun run = factory.create(channels.get(0).eventLoop(), conns, start);
            // a guard against a run that never ends; a run ends by itself after its drain
            return run.start().get(10, TimeUnit.MINUTES);
        } finally {
            for (Channel ch : channels) {
                ch.close().syncUninterruptibly();
            }
        }
    }

    private static long nanos(double seconds) {
        return Math.round(seconds * 1e9);
    }
}
