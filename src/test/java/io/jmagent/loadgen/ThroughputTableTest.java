package io.jmagent.loadgen;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

class ThroughputTableTest {

    private static final long SECOND = 1_000_000_000L;

    // given two rounds: plain at 40,000 then 50,000 ops/s for 20 µs of CPU each; TLS at 30,000 for
    // 30 µs, then 40,000 for 25 µs
    private final List<ThroughputTable.Run> runs = List.of(
            run(1, "jmagent", 40_000, 800_000_000L),
            run(1, "jmagent-tls", 30_000, 900_000_000L),
            run(2, "jmagent-tls", 40_000, 1_000_000_000L),
            run(2, "jmagent", 50_000, 1_000_000_000L));
    private final ThroughputTable table = new ThroughputTable(runs, List.of("jmagent", "jmagent-tls"));

    @Test
    void eachTargetsRateAndCpuPerOperationAreMediansOverTheRounds() {
        assertThat(table.summary().lines())
                .containsExactly(
                        "| target | runs | ops/s median | ops/s min – max | CPU µs/op median | CPU µs/op min – max"
                                + " | p50 µs | p99 µs | errors |",
                        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
                        "| jmagent | 2 | 45000 | 40000 – 50000 | 20.00 | 20.00 – 20.00 | 0 | 0 | 0 |",
                        "| jmagent-tls | 2 | 35000 | 30000 – 40000 | 27.50 | 25.00 – 30.00 | 0 | 0 | 0 |");
    }

    @Test
    void aPairIsComparedRoundByRound() {
        // round 1: ratio 0.75, 10 µs more per op (1.5 times); round 2: 0.8, 5 µs more (1.25 times)
        assertThat(table.pairs("-tls").lines())
                .containsExactly(
                        "| pair | rounds | ops/s ratio median | min – max | CPU µs/op added median | min – max"
                                + " | CPU/op ratio median | min – max |",
                        "|---|---:|---:|---:|---:|---:|---:|---:|",
                        "| jmagent-tls / jmagent | 2 | 0.775 | 0.750 – 0.800 | +7.50 | +5.00 – +10.00 | 1.375 | 1.250 – 1.500 |");
    }

    @Test
    void noPairNoTable() {
        assertThat(table.pairs("+b")).isEmpty();
    }

    @Test
    void aRunWithoutCpuTimeLeavesItsCellEmpty() {
        ThroughputTable t = new ThroughputTable(List.of(run(1, "direct", 10_000, -1)), List.of("direct"));

        assertThat(t.everyRun().lines())
                .containsExactly(
                        "| round | target | ops/s | CPU µs/op | p50 µs | p99 µs | errors |",
                        "|---:|---|---:|---:|---:|---:|---:|",
                        "| 1 | direct | 10000 |  | 0 | 0 | 0 |");
    }

    /** A run of {@code ops} operations answered in a one-second window, for {@code cpuNanos} of the target's CPU. */
    private static ThroughputTable.Run run(int round, String target, long ops, long cpuNanos) {
        RunResult result = new RunResult(target, 0, new Histogram(3), ops, SECOND, ops, 0, 0, 0, 0);
        return new ThroughputTable.Run(round, result, cpuNanos);
    }
}
